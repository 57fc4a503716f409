using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Infrastructure.Network;
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
    readonly RateLimitOptions options;
    readonly RateLimitPolicy perKey;
    readonly RateLimitPolicy perAddress;

    public ApiRateLimits(IRateLimitStore store, IOptions<RateLimitOptions> options, TimeProvider clock, ILogger<ApiRateLimits> log)
    {
        this.options = options.Value;
        perKey = new RateLimitPolicy("per-key", this.options.PerMinute, this.options.Burst);
        perAddress = new RateLimitPolicy("per-address", this.options.RegisterPerMinute, this.options.RegisterPerMinute);
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
            ? function.LimitedPerClientAddress ? new Bucket(RateLimitBuckets.OfClientAddress(ClientAddress(http)), perAddress) : null
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

    /// <summary>
    /// The caller's address: the connection's, or behind a trusted proxy the rightmost public address in
    /// <see cref="RateLimitOptions.ClientAddressHeader"/>. Entries further left were sent by the client and could be
    /// forged; private ones are the proxies' own hops.
    /// </summary>
    string ClientAddress(HttpContext http)
    {
        if (options.ClientAddressHeader is { Length: > 0 } header)
        {
            var entries = string.Join(',', http.Request.Headers[header].ToArray()).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            foreach (var entry in entries.Reverse())
            {
                if (ParseAddress(entry) is { } address && SpecialAddresses.IsPublic(address))
                {
                    return Normalize(address);
                }
            }
        }

        return http.Connection.RemoteIpAddress is { } remote ? Normalize(remote) : "unknown";
    }

    /// <summary>An address as proxies write it: <c>1.2.3.4</c>, <c>1.2.3.4:5678</c>, <c>::1</c> or <c>[::1]:80</c>.</summary>
    static IPAddress? ParseAddress(string entry) =>
        IPEndPoint.TryParse(entry, out var endpoint) ? endpoint.Address : null;

    /// <summary>
    /// Whom an address stands for: an IPv4 address itself; an IPv6 address its /64, the smallest network a provider gives
    /// one subscriber, so that one subscriber's many addresses share one bucket (<c>2001:db8:1:2::-64</c>).
    /// </summary>
    internal static string Normalize(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        // "/" may not appear in a table key, which the shared bucket's name becomes.
        return new IPAddress(bytes) + "-64";
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
