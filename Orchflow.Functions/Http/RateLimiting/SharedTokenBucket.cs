using System.Threading.RateLimiting;
using Azure;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;

namespace Orchflow.Functions.Http.RateLimiting;

/// <summary>
/// One bucket of a deployment-wide limit as this instance sees it. Tokens are claimed from the shared bucket in
/// storage a batch at a time and spent here, so most requests are decided without storage; a new batch is claimed
/// before this one runs out. The slack this allows is the tokens an instance has claimed and not yet spent: at most
/// one batch per instance. An empty shared bucket is not read again until it would hold a token.
/// </summary>
sealed class SharedTokenBucket(
    IRateLimitStore store, string bucket, BucketPolicy policy, int batch, TimeProvider clock, ILogger log) : RateLimiter
{
    readonly Lock gate = new();
    int tokens;
    int waiting;
    double sharedTokens = policy.Capacity;
    DateTimeOffset sharedAt = clock.GetUtcNow();
    DateTimeOffset noClaimBefore = DateTimeOffset.MinValue;
    Task? claiming;
    long lastUsed = clock.GetTimestamp();

    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (gate)
            {
                return claiming is null && waiting == 0 ? clock.GetElapsedTime(lastUsed) : null;
            }
        }
    }

    public override RateLimiterStatistics GetStatistics()
    {
        lock (gate)
        {
            return new RateLimiterStatistics { CurrentAvailablePermits = tokens };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (gate)
        {
            return TryTake(permitCount) ?? Rejected();
        }
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        // Three looks at most: the tokens here, after a claim, and after one more claim if others took the first's.
        for (var look = 0; look < 3; look++)
        {
            Task claim;
            lock (gate)
            {
                lastUsed = clock.GetTimestamp();
                if (TryTake(permitCount) is { } lease)
                {
                    return lease;
                }

                if (clock.GetUtcNow() < noClaimBefore)
                {
                    return Rejected();
                }

                waiting += permitCount;
                claim = claiming ??= ClaimAsync();
            }

            try
            {
                await claim.WaitAsync(cancellationToken);
            }
            finally
            {
                lock (gate)
                {
                    waiting -= permitCount;
                }
            }
        }

        lock (gate)
        {
            return TryTake(permitCount) ?? Rejected();
        }
    }

    /// <summary>Spends local tokens if there are enough, claiming the next batch early when they run low. Under the lock.</summary>
    RateLimitLease? TryTake(int permitCount)
    {
        if (tokens < permitCount)
        {
            return null;
        }

        tokens -= permitCount;
        if (tokens * 2 < batch && claiming is null && clock.GetUtcNow() >= noClaimBefore)
        {
            claiming = ClaimAsync();
        }

        return new BucketLease(true, Remaining(), null, Reset());
    }

    async Task ClaimAsync()
    {
        await Task.Yield();
        int wanted;
        lock (gate)
        {
            wanted = Math.Clamp(Math.Max(batch, waiting), 1, policy.Capacity);
        }

        try
        {
            var claim = await store.ClaimAsync(bucket, policy, wanted, CancellationToken.None);
            lock (gate)
            {
                tokens += claim.Granted;
                sharedTokens = claim.TokensLeft;
                sharedAt = claim.At;
                noClaimBefore = claim.Granted == 0 ? claim.At + policy.TimeUntil(claim.TokensLeft, 1) : DateTimeOffset.MinValue;
            }
        }
        catch (Exception e) when (e is RequestFailedException or InvalidOperationException)
        {
            // The shared state cannot be reached: limit this instance on its own, at the configured rate, until it can.
            log.LogWarning(e, "Rate limit bucket {Bucket} could not be claimed from; limiting on this instance alone for now", bucket);
            lock (gate)
            {
                tokens += wanted;
                noClaimBefore = clock.GetUtcNow() + policy.TimeUntil(0, wanted);
            }
        }
        finally
        {
            lock (gate)
            {
                claiming = null;
            }
        }
    }

    RateLimitLease Rejected()
    {
        var shared = SharedTokensNow();
        var untilClaim = noClaimBefore - clock.GetUtcNow();
        var retryAfter = TimeSpan.FromTicks(Math.Max(policy.TimeUntil(shared, 1).Ticks, untilClaim.Ticks));
        return new BucketLease(false, 0, retryAfter, policy.TimeUntil(shared, policy.Capacity));
    }

    /// <summary>Requests that would pass now: the tokens here and what the shared bucket held, refilled since.</summary>
    int Remaining() => (int)Math.Min(policy.Capacity, tokens + Math.Floor(SharedTokensNow()));

    TimeSpan Reset() => policy.TimeUntil(Remaining(), policy.Capacity);

    double SharedTokensNow() => policy.Refill(sharedTokens, sharedAt, clock.GetUtcNow());

    protected override void Dispose(bool disposing)
    {
    }
}

/// <summary>A rate limiter's answer, with what the RateLimit headers tell the client.</summary>
sealed class BucketLease(bool acquired, int remaining, TimeSpan? retryAfter, TimeSpan reset) : RateLimitLease
{
    public static readonly MetadataName<int> Remaining = MetadataName.Create<int>("RateLimit.Remaining");

    public static readonly MetadataName<TimeSpan> Reset = MetadataName.Create<TimeSpan>("RateLimit.Reset");

    public override bool IsAcquired => acquired;

    public override IEnumerable<string> MetadataNames =>
        retryAfter is null ? [Remaining.Name, Reset.Name] : [MetadataName.RetryAfter.Name, Remaining.Name, Reset.Name];

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        metadata = metadataName switch
        {
            _ when metadataName == MetadataName.RetryAfter.Name => retryAfter,
            _ when metadataName == Remaining.Name => remaining,
            _ when metadataName == Reset.Name => reset,
            _ => null,
        };
        return metadata is not null;
    }
}
