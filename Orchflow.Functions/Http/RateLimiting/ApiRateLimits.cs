using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Models;
using Orchflow.Telemetry;

namespace Orchflow.Functions.Http.RateLimiting;

/// <summary>
/// The API's rate limits, applied once in the pipeline both hosts share: a token bucket per API key on every protected
/// route, and one per client address on registration. Each bucket is shared by the whole deployment through
/// <see cref="IRateLimitStore"/>; this instance holds at most one small batch of a bucket's tokens at a time.
/// </summary>
public sealed class ApiRateLimits : IAsyncDisposable
{
    readonly PartitionedRateLimiter<Bucket> buckets;
    readonly ClientAddresses addresses;
    readonly RateLimitPolicy perKey;
    readonly RateLimitPolicy perAddress;

    public ApiRateLimits(IRateLimitStore store, IOptions<RateLimitOptions> options, ClientAddresses addresses, TimeProvider clock, ILogger<ApiRateLimits> log)
    {
        this.addresses = addresses;
        perKey = new RateLimitPolicy("per-key", options.Value.PerMinute, options.Value.Burst);
        perAddress = new RateLimitPolicy("per-address", options.Value.RegisterPerMinute, options.Value.RegisterPerMinute);
        // Idle partitions are dropped by the partitioned limiter itself, so a key that stops calling costs no memory.
        buckets = PartitionedRateLimiter.Create<Bucket, string>(bucket => RateLimitPartition.Get(bucket.Name,
            name => new SharedTokenBucket(store, name, bucket.Policy.Shape, bucket.Policy.Batch, clock, log)));
    }

    /// <summary>
    /// Counts the request against its bucket and writes the RateLimit headers; returns the 429 to send when it is over
    /// the limit, null when it may go on (also for routes that are not limited).
    /// </summary>
    public async Task<ApiResult?> LimitAsync(HttpContext http, HttpFunction function)
    {
        var bucket = function.IsPublic
            ? function.LimitedPerClientAddress ? new Bucket(RateLimitBuckets.OfClientAddress(addresses.Of(http)), perAddress) : null
            : new Bucket(RateLimitBuckets.OfKey(ApiKeyAuthenticator.KeyHashOf(http.Request)), perKey);
        if (bucket is null)
        {
            return null;
        }

        using var lease = await buckets.AcquireAsync(bucket, 1, http.RequestAborted);
        var remaining = lease.TryGetMetadata(BucketLease.Remaining, out var r) ? r : 0;
        var reset = lease.TryGetMetadata(BucketLease.Reset, out var t) ? t : TimeSpan.Zero;
        var headers = new Dictionary<string, string>
        {
            ["RateLimit-Policy"] = bucket.Policy.Header,
            ["RateLimit"] = $"\"{bucket.Policy.Name}\";r={remaining};t={WholeSeconds(reset, atLeast: 0)}",
        };
        if (lease.IsAcquired)
        {
            foreach (var (name, value) in headers)
            {
                http.Response.Headers[name] = value;
            }

            return null;
        }

        var retryAfter = WholeSeconds(lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.Zero, atLeast: 1);
        headers["Retry-After"] = retryAfter.ToString(CultureInfo.InvariantCulture);
        OrchflowTelemetry.RateLimited(bucket.Policy.Name);
        return Problems.RateLimited(bucket.Policy, retryAfter, headers);
    }

    static long WholeSeconds(TimeSpan span, int atLeast) => Math.Max(atLeast, (long)Math.Ceiling(span.TotalSeconds));

    public ValueTask DisposeAsync() => buckets.DisposeAsync();

    sealed record Bucket(string Name, RateLimitPolicy Policy);
}

/// <summary>One limit as the API states it: a name, a quota per minute, the burst a bucket holds, and the headers that say so.</summary>
public sealed record RateLimitPolicy(string Name, int PerMinute, int Burst)
{
    public BucketPolicy Shape { get; } = new(Burst, PerMinute / 60.0);

    /// <summary>
    /// Tokens an instance claims from the shared bucket at once: a tenth of the burst, so each claim serves several
    /// requests and the deployment can overshoot the limit by at most this much per instance.
    /// </summary>
    public int Batch { get; } = Math.Max(1, Burst / 10);

    public string Header => $"\"{Name}\";q={PerMinute};w=60";
}
