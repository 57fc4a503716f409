namespace Orchflow.Abstractions;

/// <summary>
/// Token buckets shared by every instance of a deployment, so a rate limit holds for the deployment however far it
/// scales out. Instances take tokens in small batches and spend them locally (see the API's rate limiter).
/// </summary>
public interface IRateLimitStore
{
    /// <summary>
    /// Refills <paramref name="bucket"/> for the time since it was last touched, then takes up to
    /// <paramref name="wanted"/> whole tokens from it (fewer, or none, when it holds fewer).
    /// </summary>
    Task<BucketClaim> ClaimAsync(string bucket, BucketPolicy policy, int wanted, CancellationToken cancellationToken);

    /// <summary>Deletes the bucket (its key was erased); a bucket never claimed from is no error.</summary>
    Task ForgetAsync(string bucket, CancellationToken cancellationToken);
}

/// <summary>The names of the buckets: one per API key, by its keyed hash; one per client address for registration.</summary>
public static class RateLimitBuckets
{
    public static string OfKey(string apiKeyHash) => "key-" + apiKeyHash;

    public static string OfClientAddress(string address) => "register-" + address;
}

/// <summary>A token bucket's shape: how many tokens it holds at most, and how fast it refills.</summary>
public sealed record BucketPolicy(int Capacity, double TokensPerSecond)
{
    /// <summary>The tokens a bucket holds at <paramref name="now"/>, having held <paramref name="tokens"/> at <paramref name="at"/>.</summary>
    public double Refill(double tokens, DateTimeOffset at, DateTimeOffset now) =>
        Math.Min(Capacity, tokens + TokensPerSecond * Math.Max(0, (now - at).TotalSeconds));

    /// <summary>How long a bucket holding <paramref name="tokens"/> takes to hold <paramref name="wanted"/>.</summary>
    public TimeSpan TimeUntil(double tokens, double wanted) =>
        tokens >= wanted ? TimeSpan.Zero : TimeSpan.FromSeconds((wanted - tokens) / TokensPerSecond);
}

/// <summary>What a claim took, and the shared bucket's tokens right after it, at <paramref name="At"/>.</summary>
public sealed record BucketClaim(int Granted, double TokensLeft, DateTimeOffset At);
