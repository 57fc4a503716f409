namespace Orchflow.Client;

/// <summary>How an <see cref="OrchflowClient"/> retries and names its requests.</summary>
public sealed class OrchflowClientOptions
{
    /// <summary>
    /// Retries of one call after a 429 or 503 (after its <c>Retry-After</c>), a 409 <c>idempotency_in_progress</c>, a 502
    /// or 504, or a connection that failed. A POST is retried with the same <c>Idempotency-Key</c>, so it never acts twice.
    /// </summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>The longest wait between two tries, whatever <c>Retry-After</c> asks.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The wait before a retry that no <c>Retry-After</c> sets; doubled on each further try.</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Makes the <c>Idempotency-Key</c> of a POST that was given none: a random one by default.</summary>
    public Func<string> NewIdempotencyKey { get; init; } = () => Guid.NewGuid().ToString("N");
}
