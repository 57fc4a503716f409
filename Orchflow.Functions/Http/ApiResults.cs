using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Orchflow.Domain;

namespace Orchflow.Functions.Http;

/// <summary>A JSON response written with the API's conventions, whichever host runs the function.</summary>
public sealed class ApiResult(
    int status, object? body, IReadOnlyDictionary<string, string>? headers = null, string contentType = "application/json", bool kept = true) : IActionResult
{
    public int Status => status;

    /// <summary>
    /// Whether an <c>Idempotency-Key</c> keeps this answer to replay it. A refusal that holds only until the account frees
    /// something (a limit reached) is not kept: the same request, sent again once there is room, is done afresh.
    /// </summary>
    public bool Kept => kept;

    public object? Body => body;

    public string ContentType => contentType;

    public IReadOnlyDictionary<string, string> Headers => headers ?? new Dictionary<string, string>();

    public async Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        response.StatusCode = status;
        response.Headers["X-Content-Type-Options"] = "nosniff";
        foreach (var (name, value) in Headers)
        {
            response.Headers[name] = value;
        }

        if (body is null)
        {
            return;
        }

        response.ContentType = contentType + "; charset=utf-8";
        await JsonSerializer.SerializeAsync(response.Body, body, body.GetType(), ApiJson.Options, context.HttpContext.RequestAborted);
    }

    /// <summary>The same response, marked as carrying a secret shown once: no cache on the way may keep it.</summary>
    public ApiResult NoStore() => WithHeader("Cache-Control", "no-store");

    public ApiResult WithHeader(string name, string value) =>
        new(status, body, new Dictionary<string, string>(Headers) { [name] = value }, contentType, kept);

    /// <summary>The same response, never kept for an <c>Idempotency-Key</c> (see <see cref="Kept"/>).</summary>
    public ApiResult Unkept() => new(status, body, headers, contentType, kept: false);

    public static ApiResult Ok(object body) => new(StatusCodes.Status200OK, body);

    public static ApiResult Created(object body, string location) =>
        new(StatusCodes.Status201Created, body, new Dictionary<string, string> { ["Location"] = location });

    public static ApiResult Accepted(object body, string location) =>
        new(StatusCodes.Status202Accepted, body, new Dictionary<string, string> { ["Location"] = location });

    public static ApiResult NoContent() => new(StatusCodes.Status204NoContent, null);

    /// <summary>202 with nothing to show: work accepted whose result is that something is gone (an erasure).</summary>
    public static ApiResult AcceptedEmpty() => new(StatusCodes.Status202Accepted, null);
}

/// <summary>RFC 9457 problem details with Orchflow's stable <c>code</c> words.</summary>
public sealed record Problem(
    string Type,
    string Title,
    int Status,
    string Detail,
    string Code,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string[]>? Errors = null);

/// <summary>Every error response the API sends, built in one place.</summary>
public static class Problems
{
    public static ApiResult Unauthorized(string detail) => Make(401, "Unauthorized", "unauthorized", detail);

    public static ApiResult TrialExhausted() => Make(402, "Trial exhausted", "trial_exhausted",
        "This account has used all of its managed trial runs. Register your own model provider in the console (Providers, at /console#/providers) " +
        "or with POST /api/v1/providers, and pass its provider_id when you start a run.");

    public static ApiResult Forbidden(string detail) => Make(403, "Forbidden", "forbidden", detail);

    public static ApiResult NotFound(string detail) => Make(404, "Not found", "not_found", detail);

    public static ApiResult Conflict(string detail) => Make(409, "Conflict", "conflict", detail);

    /// <summary>
    /// An account holding as many of something (webhooks, providers, tool servers, active runs) as it may: 409, as the
    /// account's own state is in the way, and not kept for an <c>Idempotency-Key</c>, so the request can be sent again
    /// with its key once the account made room.
    /// </summary>
    public static ApiResult LimitReached(string detail) => Conflict(detail).Unkept();

    /// <summary>An account whose runs hold every active place it has: 409 until one ends (see <see cref="LimitReached"/>).</summary>
    public static ApiResult TooManyActiveRuns(int active, int max) => LimitReached(
        $"This account has {active} active runs, the most it may have at once ({max}). Wait for one to complete or fail, or cancel one " +
        "with DELETE /api/v1/runs/{run_id}, then start this run again.");

    public static ApiResult IdempotencyMismatch() => Make(422, "Idempotency key reused", "idempotency_mismatch",
        "This Idempotency-Key was already used for a different request; use a new key for a new request.");

    public static ApiResult IdempotencyInProgress() => Make(409, "Request in progress", "idempotency_in_progress",
        "The first request with this Idempotency-Key is still being handled; retry it in a moment to get its answer.");

    public static ApiResult PayloadTooLarge(long limit) => Make(413, "Payload too large", "payload_too_large",
        $"The request body is larger than the limit of {limit} bytes.");

    public static ApiResult Validation(IReadOnlyDictionary<string, string[]> errors) => Make(422, "Validation failed", "validation_failed",
        string.Join(" ", errors.SelectMany(e => e.Value)), errors);

    public static ApiResult Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    public static ApiResult Internal(string traceId) => Make(500, "Internal error", "internal",
        $"Orchflow failed to handle this request; nothing you sent caused it. Reference: {traceId}.");

    public static ApiResult MethodNotAllowed(string method, string path, IReadOnlyList<string> allowed) =>
        Make(405, "Method not allowed", "method_not_allowed",
            $"{path} does not serve {method}; it serves {string.Join(", ", allowed)}.",
            headers: new Dictionary<string, string> { ["Allow"] = string.Join(", ", allowed) });

    public static ApiResult RateLimited(RateLimiting.RateLimitPolicy policy, long retryAfterSeconds, IReadOnlyDictionary<string, string> headers) =>
        Make(429, "Rate limit exceeded", "rate_limited",
            $"Too many requests: the {policy.Name} limit is {policy.PerMinute} a minute with bursts of {policy.Burst}. " +
            $"Retry after {retryAfterSeconds} s, or slow down polling.",
            headers: headers);

    /// <summary>An address that sent too many unknown keys: 429, its keys not looked up until it has waited.</summary>
    public static ApiResult TooManyFailedAuthentications(TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Make(429, "Too many invalid API keys", "rate_limited",
            $"Too many requests from your address carried an invalid API key. Check the key you send; retry after {seconds} s.",
            headers: new Dictionary<string, string> { ["Retry-After"] = seconds });
    }

    /// <summary>A caller holding as many live streams on this instance as it may: 429, to try again once one ends.</summary>
    public static ApiResult TooManyStreams(int limit) =>
        Make(429, "Too many open streams", "rate_limited",
            $"This account already holds {limit} open event streams on this instance, the most it may. Close one (each ends " +
            "with its run), or read the events as pages with GET /runs/{run_id}/events?after=…",
            headers: new Dictionary<string, string> { ["Retry-After"] = "5" });

    public static ApiResult Unavailable(string detail) => Make(503, "Service unavailable", "unavailable", detail);

    /// <summary>
    /// The answer to a change the run's rules refused: its task not found, the request unfit for it (every problem by
    /// field), or its state in the way.
    /// </summary>
    public static ApiResult Refused(Decision decision) => decision.Refusal! switch
    {
        { Kind: RefusalKind.NotFound } refusal => NotFound(refusal.Detail),
        { Kind: RefusalKind.Invalid } when decision.Problems.Count > 0 =>
            Validation(decision.Problems.GroupBy(p => p.Field).ToDictionary(g => g.Key, g => g.Select(p => p.Message).ToArray())),
        { Kind: RefusalKind.Invalid } refusal => Validation(refusal.Field ?? "body", refusal.Detail),
        var refusal => Conflict(refusal.Detail),
    };

    static ApiResult Make(
        int status, string title, string code, string detail, IReadOnlyDictionary<string, string[]>? errors = null,
        IReadOnlyDictionary<string, string>? headers = null) =>
        new(status, new Problem($"https://orchflow.dev/problems/{code.Replace('_', '-')}", title, status, detail, code, errors),
            headers, "application/problem+json");
}
