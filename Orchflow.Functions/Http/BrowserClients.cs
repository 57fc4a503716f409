using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Orchflow.Functions.Http;

/// <summary>
/// CORS for the pages listed in <see cref="BrowserClientOptions"/>, as docs/api.md's "Browser clients" states it, in one
/// place for both hosts: ASP.NET Core's CORS service answers a listed origin's preflight and adds the headers to its
/// responses, exposed headers included. Any other origin is served as if CORS were off (no CORS headers; OPTIONS is
/// the 405 of any unserved method). In Azure the Function App's own CORS is left empty: with it on, the platform would
/// answer instead and could not expose headers such as <c>ETag</c>.
/// </summary>
public sealed class BrowserClients
{
    public static readonly string[] AllowedHeaders = ["X-API-Key", "Content-Type", "Idempotency-Key", "If-None-Match", "Last-Event-ID"];

    public static readonly string[] ExposedHeaders = ["ETag", "Location", "Retry-After", "RateLimit", "RateLimit-Policy"];

    public static readonly string[] Methods = ["GET", "POST", "DELETE"];

    /// <summary>How long a browser may keep a preflight's answer.</summary>
    public static readonly TimeSpan PreflightMaxAge = TimeSpan.FromHours(1);

    readonly BrowserClientOptions options;
    readonly ICorsService cors;
    readonly CorsPolicy policy;

    public BrowserClients(IOptions<BrowserClientOptions> options, ICorsService cors)
    {
        this.options = options.Value;
        this.cors = cors;
        policy = new CorsPolicyBuilder()
            .WithOrigins([.. this.options.AllowedOrigins])
            .WithHeaders(AllowedHeaders)
            .WithMethods(Methods)
            .WithExposedHeaders(ExposedHeaders)
            .SetPreflightMaxAge(PreflightMaxAge)
            .Build();
    }

    /// <summary>
    /// Adds the CORS headers a listed origin's request gets. Returns true when that answered the request (a preflight,
    /// answered 204 without reaching the API); false when the request goes on to the API.
    /// </summary>
    public bool Handle(HttpContext http)
    {
        var request = http.Request;
        if (!options.Allows(request.Headers.Origin))
        {
            return false;
        }

        var result = cors.EvaluatePolicy(http, policy);
        cors.ApplyResult(result, http.Response);
        // Listed origins get CORS headers and others none, so every answer depends on the origin, whatever the list's length.
        if (!http.Response.Headers.Vary.Any(v => v?.Contains(HeaderNames.Origin, StringComparison.OrdinalIgnoreCase) == true))
        {
            http.Response.Headers.Append(HeaderNames.Vary, HeaderNames.Origin);
        }

        if (result.IsPreflightRequest)
        {
            http.Response.StatusCode = StatusCodes.Status204NoContent;
            return true;
        }

        return false;
    }
}

/// <summary>The Functions host's use of <see cref="BrowserClients"/>: preflights answered here, before any function.</summary>
public sealed class BrowserClientsMiddleware(BrowserClients browsers) : IFunctionsWorkerMiddleware
{
    public Task Invoke(FunctionContext context, FunctionExecutionDelegate next) =>
        context.GetHttpContext() is { } http && browsers.Handle(http) ? Task.CompletedTask : next(context);
}
