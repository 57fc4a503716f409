using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Orchflow.Functions.Streaming;

/// <summary>
/// How many live event streams one caller may hold open on this instance at once (<see cref="StreamOptions.MaxPerCaller"/>):
/// a concurrency limiter per caller, whose permit a stream holds until it ends. A stream is a connection and a feed
/// kept for minutes; without a bound, one caller could hold an instance's connections for everyone.
/// </summary>
public sealed class StreamQuota(IOptions<StreamOptions> options) : IDisposable
{
    readonly PartitionedRateLimiter<string> limiter = PartitionedRateLimiter.Create<string, string>(caller =>
        RateLimitPartition.GetConcurrencyLimiter(caller, _ => new ConcurrencyLimiterOptions
        {
            PermitLimit = options.Value.MaxPerCaller,
            QueueLimit = 0,
        }));

    public int Limit => options.Value.MaxPerCaller;

    /// <summary>A permit for one more stream of <paramref name="caller"/>, to dispose when it ends; null when it holds the most.</summary>
    public RateLimitLease? TryOpen(string caller)
    {
        var lease = limiter.AttemptAcquire(caller);
        if (lease.IsAcquired)
        {
            return lease;
        }

        lease.Dispose();
        return null;
    }

    public void Dispose() => limiter.Dispose();
}
