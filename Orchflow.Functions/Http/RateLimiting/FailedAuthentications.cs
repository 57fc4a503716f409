using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Orchflow.Functions.Http.RateLimiting;

/// <summary>
/// Failed authentications per client address, counted on this instance. An address that has sent
/// <see cref="RateLimitOptions.FailedAuthPerMinute"/> requests with a missing, malformed or unknown key is refused
/// before its next key is looked up, so a flood of invented keys costs the key store nothing. Keys this instance
/// already knows still pass: a caller behind the same address with a working key is not locked out by a neighbour.
/// Counted per instance, not shared: sharing would cost the very storage request this exists to save.
/// </summary>
public sealed class FailedAuthentications : IAsyncDisposable
{
    /// <summary>
    /// Refills happen in twelve steps a minute, so an address that stops failing is let back within one step: what a
    /// refused caller is told to wait.
    /// </summary>
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(5);

    readonly PartitionedRateLimiter<string> failures;

    public FailedAuthentications(IOptions<RateLimitOptions> options)
    {
        var perMinute = options.Value.FailedAuthPerMinute;
        failures = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            TokensPerPeriod = Math.Max(1, perMinute / 12),
            ReplenishmentPeriod = Step,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>Whether <paramref name="address"/> has failed too often to have another key looked up before the next <see cref="Step"/>.</summary>
    public bool IsBlocked(string address) =>
        // The statistics, not a lease of no tokens: the token bucket grants one of those after any pause, empty or not.
        failures.GetStatistics(address)?.CurrentAvailablePermits <= 0;

    /// <summary>Counts one failed authentication from <paramref name="address"/>.</summary>
    public void Failed(string address)
    {
        using var lease = failures.AttemptAcquire(address, 1);
    }

    public ValueTask DisposeAsync() => failures.DisposeAsync();
}
