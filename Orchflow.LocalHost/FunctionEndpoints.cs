using System.Reflection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask.Client;
using Orchflow.Functions.Http;

namespace Orchflow.LocalHost;

/// <summary>
/// Serves the Functions app's HTTP functions on Kestrel: one endpoint per <see cref="FunctionCatalog"/> entry, with
/// the route and methods from the function's own trigger attribute, run through the same <see cref="ApiPipeline"/>.
/// </summary>
public static class FunctionEndpoints
{
    public static void MapOrchflowFunctions(this WebApplication app)
    {
        foreach (var function in FunctionCatalog.Http)
        {
            var bind = Binder(function);
            app.MapMethods("/" + function.Route, function.Methods, (HttpContext http) =>
                http.RequestServices.GetRequiredService<ApiPipeline>().RunAsync(http, function,
                    async () =>
                    {
                        var target = function.Method.IsStatic
                            ? null
                            : ActivatorUtilities.GetServiceOrCreateInstance(http.RequestServices, function.Method.DeclaringType!);
                        var returned = function.Method.Invoke(target, bind(http));
                        return returned switch
                        {
                            Task<IActionResult> pending => await pending,
                            IActionResult done => done,
                            _ => throw new InvalidOperationException($"{function.Name} returned {returned?.GetType().Name ?? "null"}."),
                        };
                    },
                    result => ApiPipeline.WriteAsync(http, result)));
        }

        // Under the route prefix the catch-all function answers; this covers every other path. No ':nonfile'
        // constraint as MapFallback's default has: a path that looks like a file gets problem details too.
        app.MapFallback("{*path}", (HttpContext http) =>
            ApiPipeline.WriteAsync(http, Problems.NotFound($"There is no {http.Request.Method} {http.Request.Path}; see the API reference.")));
    }

    /// <summary>
    /// Builds each function's argument list the way the Functions host binds it. Unknown parameter kinds fail at
    /// start-up, not on the first request.
    /// </summary>
    static Func<HttpContext, object?[]> Binder(HttpFunction function)
    {
        var binders = function.Method.GetParameters().Select(Bind).ToArray();
        return http => binders.Select(b => b(http)).ToArray();

        Func<HttpContext, object?> Bind(ParameterInfo p)
        {
            if (p.ParameterType == typeof(HttpRequest))
            {
                return http => http.Request;
            }

            if (p.ParameterType == typeof(DurableTaskClient))
            {
                return http => http.RequestServices.GetRequiredService<DurableTaskClient>();
            }

            if (p.ParameterType == typeof(CancellationToken))
            {
                return http => http.RequestAborted;
            }

            if (p.ParameterType == typeof(string) && function.Route.Contains("{" + p.Name + "}", StringComparison.Ordinal))
            {
                return http => http.Request.RouteValues[p.Name!]?.ToString();
            }

            throw new InvalidOperationException($"{function.Name}: the standalone host cannot bind parameter '{p.Name}' of type {p.ParameterType.Name}.");
        }
    }
}
