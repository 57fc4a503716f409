namespace Orchflow.Models;

/// <summary>How Orchflow calls model providers (section <c>Orchflow:Models</c>).</summary>
public sealed class ModelOptions
{
    public const string Section = "Orchflow:Models";

    /// <summary>How long one request may take before it is abandoned and retried.</summary>
    public int RequestTimeoutSeconds { get; set; } = 120;

    /// <summary>Requests made for one model call before it fails, the first included.</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>The first backoff; each retry doubles it, with jitter, up to <see cref="MaxRetryDelaySeconds"/>.</summary>
    public int RetryBaseDelayMs { get; set; } = 1_000;

    /// <summary>The longest wait between attempts. A provider asking (Retry-After) for a longer wait fails the call instead.</summary>
    public int MaxRetryDelaySeconds { get; set; } = 60;

    /// <summary>
    /// Whether registered providers may point at loopback, private or link-local addresses (a local Ollama, say).
    /// Defaults to true in development only: in a hosted deployment such an endpoint could reach internal services.
    /// </summary>
    public bool? AllowPrivateEndpoints { get; set; }

    public TimeSpan RequestTimeout => TimeSpan.FromSeconds(RequestTimeoutSeconds);

    public TimeSpan MaxRetryDelay => TimeSpan.FromSeconds(MaxRetryDelaySeconds);
}
