using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Azure.Functions.Worker;

namespace Orchflow.Functions.Http;

/// <summary>An HTTP-triggered function as its attributes declare it: the one source of truth for routes.</summary>
public sealed record HttpFunction(
    string Name, MethodInfo Method, string Route, IReadOnlyList<string> Methods, bool IsPublic, bool LimitedPerClientAddress = false,
    bool IsIdempotent = false)
{
    /// <summary>The catch-all that answers what no other function serves.</summary>
    public bool IsFallback => Route.Contains("{*", StringComparison.Ordinal);

    /// <summary>Whether this is <c>/mcp</c>, which takes its key as MCP clients send it too (<see cref="Mcp.McpAccess"/>).</summary>
    public bool IsMcp => Route == Functions.McpFunctions.Route;

    /// <summary>Whether the route is one of the API's (under <see cref="FunctionCatalog.ApiBase"/>), not the console's.</summary>
    public bool IsApi => Route.StartsWith(FunctionCatalog.Api + "/", StringComparison.Ordinal);
}

/// <summary>
/// The HTTP functions of this app, read from their <c>[Function]</c> and <c>[HttpTrigger]</c> attributes.
/// The Functions host reads the same attributes (through functions.metadata); the standalone host serves this list.
/// </summary>
public static class FunctionCatalog
{
    /// <summary>
    /// Where the API's routes start. host.json's route prefix is empty and each route names this base itself, so the
    /// app can also serve paths outside it (the console at /console).
    /// </summary>
    public const string ApiBase = "/" + Api;

    /// <summary>The API's route prefix as the functions' trigger attributes write it (relative, no leading slash).</summary>
    public const string Api = "api/v1";

    static readonly Lazy<IReadOnlyList<HttpFunction>> All = new(() => Scan(typeof(FunctionCatalog).Assembly));

    static readonly Lazy<IReadOnlyList<(HttpFunction Function, TemplateMatcher Matcher)>> Matchers = new(() =>
        All.Value.Where(f => !f.IsFallback)
            .Select(f => (f, new TemplateMatcher(TemplateParser.Parse(f.Route), new RouteValueDictionary())))
            .ToList());

    public static IReadOnlyList<HttpFunction> Http => All.Value;

    public static HttpFunction? ByName(string name) => Http.FirstOrDefault(f => f.Name == name);

    /// <summary>The methods some function serves at <paramref name="path"/>; empty when no route has that path.</summary>
    public static IReadOnlyList<string> MethodsAt(PathString path) =>
        Matchers.Value.Where(m => m.Matcher.TryMatch(path, new RouteValueDictionary()))
            .SelectMany(m => m.Function.Methods)
            .Distinct()
            .ToList();

    static List<HttpFunction> Scan(Assembly assembly) =>
        assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            .Select(m => (Method: m, Function: m.GetCustomAttribute<FunctionAttribute>(), Public: m.GetCustomAttribute<PublicRouteAttribute>(),
                Trigger: m.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(a => a is not null)))
            .Where(x => x.Function is not null && x.Trigger is not null)
            .Select(x => new HttpFunction(
                x.Function!.Name,
                x.Method,
                x.Trigger!.Route ?? x.Function.Name,
                (x.Trigger.Methods ?? ["get", "post", "put", "delete", "patch"]).Select(v => v.ToUpperInvariant()).ToList(),
                x.Public is not null,
                x.Public?.LimitPerClientAddress ?? false,
                x.Method.GetCustomAttribute<Idempotency.IdempotentAttribute>() is not null))
            .OrderBy(f => f.Route, StringComparer.Ordinal)
            .ToList();
}
