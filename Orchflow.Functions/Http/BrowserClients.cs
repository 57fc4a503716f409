using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Options;

namespace Orchflow.Functions.Http;

/// <summary>What a cross-origin page may send and read, as docs/api.md's "Browser clients" states it; both hosts use these.</summary>
public static class BrowserClients
{
    public const string Policy = "browser-clients";

    public static readonly string[] AllowedHeaders = ["X-API-Key", "Content-Type", "Idempotency-Key", "If-None-Match", "Last-Event-ID"];

    public static readonly string[] ExposedHeaders = ["ETag", "Location", "Retry-After", "RateLimit", "RateLimit-Policy"];

    public static readonly string[] Methods = ["GET", "POST", "DELETE"];

    /// <summary>How long a browser may keep a preflight's answer.</summary>
    public static readonly TimeSpan PreflightMaxAge = TimeSpan.FromHours(1);

    /// <summary>
    /// Names the response headers a listed origin's scripts may read. In Azure the Function App's own CORS (set by the
    /// Bicep template from the same list) answers preflights and adds Access-Control-Allow-Origin, but has no setting
    /// for exposed headers, so the app adds them itself.
    /// </summary>
    public static void ExposeHeaders(HttpContext http, BrowserClientOptions options)
    {
        if (options.Allows(http.Request.Headers.Origin))
        {
            http.Response.Headers.AccessControlExposeHeaders = string.Join(", ", ExposedHeaders);
        }
    }
}

/// <summary>The Functions host's part of <see cref="BrowserClients"/>: exposed headers on responses to listed origins.</summary>
public sealed class BrowserClientsMiddleware(IOptions<BrowserClientOptions> options) : IFunctionsWorkerMiddleware
{
    public Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        if (context.GetHttpContext() is { } http)
        {
            BrowserClients.ExposeHeaders(http, options.Value);
        }

        return next(context);
    }
}
