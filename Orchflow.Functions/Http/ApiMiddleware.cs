using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;
using Orchflow.Functions.Http.RateLimiting;

namespace Orchflow.Functions.Http;

/// <summary>
/// The Functions host's request pipeline: API key authentication for protected routes, rate limits, and problem details
/// instead of a bare 500 when something fails inside. The standalone host runs <see cref="ApiPipeline"/> the same way.
/// </summary>
public sealed class ApiMiddleware(ApiPipeline pipeline) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        var http = context.GetHttpContext();
        var function = FunctionCatalog.ByName(context.FunctionDefinition.Name);
        if (http is null || function is null)
        {
            await next(context);
            return;
        }

        await pipeline.RunAsync(http, function, () => next(context));
    }
}

/// <summary>What every API request goes through, in either host.</summary>
public sealed class ApiPipeline(ApiKeyAuthenticator authenticator, ApiRateLimits limits, ILogger<ApiPipeline> log)
{
    public async Task RunAsync(Microsoft.AspNetCore.Http.HttpContext http, HttpFunction function, Func<Task> invoke)
    {
        try
        {
            // A bad key is refused before anything is counted: only keys that exist have buckets.
            var denied = function.IsPublic ? null : await authenticator.AuthenticateAsync(http);
            denied ??= await limits.LimitAsync(http, function);
            if (denied is not null)
            {
                await WriteAsync(http, denied);
                return;
            }

            await invoke();
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is no one to answer.
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            log.LogError(e, "{Function} failed for {Method} {Path} ({TraceId})", function.Name, http.Request.Method, http.Request.Path, http.TraceIdentifier);
            await WriteAsync(http, Problems.Internal(http.TraceIdentifier));
        }
    }

    public static Task WriteAsync(Microsoft.AspNetCore.Http.HttpContext http, IActionResult result) =>
        result.ExecuteResultAsync(new ActionContext(http, http.GetRouteData() ?? new RouteData(), new ActionDescriptor()));
}
