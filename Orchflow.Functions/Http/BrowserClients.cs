using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Options;

namespace Orchflow.Functions.Http;

/// <summary>
/// Web pages on other origins that may call the API from the browser (section <c>Orchflow:Cors</c>). Empty, the
/// default: no CORS headers at all, so only same-origin pages (the console) and servers call the API.
/// </summary>
public sealed class BrowserClientOptions
{
    public const string Section = "Orchflow:Cors";

    /// <summary>Origins as browsers send them: scheme, host and port only, such as <c>https://app.example.com</c>.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    public bool Allows(string? origin) =>
        !string.IsNullOrEmpty(origin) && AllowedOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase);

    public void Validate()
    {
        foreach (var origin in AllowedOrigins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") ||
                !string.Equals(uri.GetLeftPart(UriPartial.Authority), origin, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"{Section}:AllowedOrigins holds '{origin}', which is not an origin: give scheme, host and optional port, like https://app.example.com, with no path or '*'.");
            }
        }
    }
}

/// <summary>What a cross-origin page may send and read, as API.md's "Browser clients" states it; both hosts use these.</summary>
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
