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
    /// The most output tokens a model call asks for (sent as the request's output token limit), so that a model that
    /// does not stop writes a bounded answer.
    /// </summary>
    public int MaxOutputTokens { get; set; } = 8_192;

    /// <summary>
    /// The most bytes of one provider answer read, as sent and as decompressed: past it the call fails. A streamed
    /// answer of <see cref="MaxOutputTokens"/> tokens is well under the default.
    /// </summary>
    public int MaxResponseBytes { get; set; } = 8 * 1024 * 1024;

    public TimeSpan RequestTimeout => TimeSpan.FromSeconds(RequestTimeoutSeconds);

    public TimeSpan MaxRetryDelay => TimeSpan.FromSeconds(MaxRetryDelaySeconds);
}
