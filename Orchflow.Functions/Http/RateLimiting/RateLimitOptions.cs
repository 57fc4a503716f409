namespace Orchflow.Functions.Http.RateLimiting;

/// <summary>The API's rate limits (section <c>Orchflow:RateLimit</c>).</summary>
public sealed class RateLimitOptions
{
    public const string Section = "Orchflow:RateLimit";

    /// <summary>Requests per minute one API key may make, refilled evenly.</summary>
    public int PerMinute { get; set; } = 300;

    /// <summary>Requests one API key may make at once, on top of the even rate's share.</summary>
    public int Burst { get; set; } = 60;

    /// <summary>Registrations per minute from one client address.</summary>
    public int RegisterPerMinute { get; set; } = 10;

    /// <summary>
    /// Requests with a missing, malformed or unknown API key one client address may make a minute (on each instance)
    /// before its keys are no longer looked up for a while.
    /// </summary>
    public int FailedAuthPerMinute { get; set; } = 30;

    /// <summary>
    /// How long a 429 is held before it is sent (at most a second, which no Retry-After is shorter than): a client that
    /// ignores Retry-After cannot make refusals cost more than one request per pause on each of its connections.
    /// </summary>
    public int RefusalPauseMs { get; set; } = 1000;

    /// <summary>
    /// A header a trusted proxy in front of the app appends the caller's address to (in Azure: X-Forwarded-For).
    /// Unset: the address of the connection itself, right for the standalone host serving clients directly.
    /// </summary>
    public string? ClientAddressHeader { get; set; }
}
