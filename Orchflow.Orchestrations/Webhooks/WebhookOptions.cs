namespace Orchflow.Webhooks;

/// <summary>How webhooks are delivered (section <c>Orchflow:Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Orchflow:Webhooks";

    /// <summary>
    /// The flat setting that names the webhook queue, read here and by the Functions queue trigger. Flat, not in the
    /// section: on Flex Consumption the scale controller that starts the trigger from zero instances resolves the
    /// trigger's queue name from this setting, and it fails on names with <c>:</c> or <c>__</c> (azure-functions-dotnet-worker #849).
    /// </summary>
    public const string QueueSetting = "ORCHFLOW_WEBHOOK_QUEUE";

    public const string DefaultQueue = "orchflow-webhooks";

    /// <summary>The storage queue deliveries travel on, from <see cref="QueueSetting"/> (never from the section).</summary>
    public string Queue { get; set; } = DefaultQueue;

    /// <summary>Requests one delivery makes at most, the first included, before it is failed.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The wait before the first retry; each later wait is <see cref="RetryBackoffFactor"/> times longer, with jitter.</summary>
    public int FirstRetryDelayMs { get; set; } = 5_000;

    public double RetryBackoffFactor { get; set; } = 4;

    /// <summary>The longest wait between attempts, a receiver's <c>Retry-After</c> included.</summary>
    public int MaxRetryDelaySeconds { get; set; } = 3_600;

    /// <summary>How long one attempt may take, connecting included, before it counts as failed.</summary>
    public int TimeoutSeconds { get; set; } = 15;

    /// <summary>Webhooks one account may register.</summary>
    public int MaxPerAccount { get; set; } = 10;

    /// <summary>How long a rotated-out secret keeps signing beside the new one.</summary>
    public int SecretOverlapHours { get; set; } = 24;

    /// <summary>
    /// How long the notice of a commit's events stays hidden unless the commit confirms it: after a crash between the
    /// two, its events are delivered this much later instead of never.
    /// </summary>
    public int OutboxDelaySeconds { get; set; } = 30;

    /// <summary>How long an account's webhooks are kept in memory by the writers of run events.</summary>
    public int CacheSeconds { get; set; } = 5;

    /// <summary>The standalone host's longest idle wait between looks at the queue (a message this process sends wakes it at once).</summary>
    public int MaxPollIntervalMs { get; set; } = 1_000;

    public TimeSpan FirstRetryDelay => TimeSpan.FromMilliseconds(FirstRetryDelayMs);

    public TimeSpan MaxRetryDelay => TimeSpan.FromSeconds(MaxRetryDelaySeconds);

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    /// <summary>
    /// The wait after failed attempt number <paramref name="attempt"/> (1 for the first): exponential, jittered by
    /// ±25 % so that receivers coming back from an outage are not hit by every retry at once, and at least as long as
    /// the receiver asked with <c>Retry-After</c>, up to <see cref="MaxRetryDelay"/>.
    /// </summary>
    public TimeSpan RetryDelay(int attempt, TimeSpan? retryAfter, double random)
    {
        var backoff = FirstRetryDelayMs * Math.Pow(RetryBackoffFactor, attempt - 1) * (0.75 + 0.5 * random);
        var wanted = Math.Max(backoff, retryAfter?.TotalMilliseconds ?? 0);
        return TimeSpan.FromMilliseconds(Math.Min(wanted, MaxRetryDelaySeconds * 1000.0));
    }
}
