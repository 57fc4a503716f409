using System.Threading.RateLimiting;
using Azure;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Orchflow.Abstractions;
using Orchflow.Functions.Http.RateLimiting;
using Orchflow.Infrastructure.Storage;
using Orchflow.Tests.Infrastructure;
using Orchflow.Tests.Models;

namespace Orchflow.Tests.Functions.RateLimiting;

/// <summary>
/// One instance's view of a deployment-wide token bucket, over the real shared store on Azurite with a clock the
/// test moves: the burst, the refill, the sharing between instances, and what it costs in storage calls.
/// </summary>
[TestFixture]
public sealed class SharedTokenBucketTests
{
    static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    ManualTimeProvider clock = null!;
    CountingStore store = null!;

    [SetUp]
    public void CreateStore()
    {
        clock = new ManualTimeProvider(Start);
        store = new CountingStore(new TableRateLimitStore(StorageFixture.NewTables(), clock));
    }

    [Test]
    public async Task AcquireAsync_BeyondTheBurst_RefusesWithARetryAfterOfOneToken()
    {
        using var bucket = Bucket(perMinute: 60, burst: 10);

        var admitted = await AdmittedAsync(bucket, 15);
        using var refused = await bucket.AcquireAsync(1);

        Assert.Multiple(() =>
        {
            Assert.That(admitted, Is.EqualTo(10));
            Assert.That(refused.IsAcquired, Is.False);
            Assert.That(refused.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter), Is.True);
            Assert.That(retryAfter, Is.GreaterThan(TimeSpan.Zero).And.LessThanOrEqualTo(TimeSpan.FromSeconds(1)), "one token refills in a second at 60 a minute");
        });
    }

    [Test]
    public async Task AcquireAsync_AfterTheBucketRefills_AdmitsWhatRefilled()
    {
        using var bucket = Bucket(perMinute: 60, burst: 10);
        Assert.That(await AdmittedAsync(bucket, 10), Is.EqualTo(10), "precondition: the burst is spent");

        clock.Advance(TimeSpan.FromSeconds(3));

        Assert.That(await AdmittedAsync(bucket, 10), Is.EqualTo(3));
    }

    [Test]
    public async Task AcquireAsync_TwoInstancesOnOneBucket_AdmitNoMoreThanTheBurstTogether()
    {
        // Two instances of the deployment, one shared bucket; each claims tokens in batches of 3.
        using var first = Bucket(perMinute: 300, burst: 30);
        using var second = Bucket(perMinute: 300, burst: 30);

        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => (i % 2 == 0 ? first : second).AcquireAsync(1).AsTask()));

        var admitted = results.Count(l => l.IsAcquired);
        Assert.That(admitted, Is.InRange(30 - 2 * 3, 30), "at most the burst; short of it by at most a batch held unspent by each instance");
    }

    [Test]
    public async Task AcquireAsync_ManyAtOnceOnOneInstance_AreServedByFewClaims()
    {
        using var bucket = Bucket(perMinute: 300, burst: 60);

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => bucket.AcquireAsync(1).AsTask()));

        Assert.Multiple(() =>
        {
            Assert.That(results.Count(l => l.IsAcquired), Is.EqualTo(60));
            Assert.That(store.Calls, Is.LessThanOrEqualTo(12), "waiting requests share one claim");
        });
    }

    [Test]
    public async Task AcquireAsync_ClientWithinTheRate_CallsStorageOncePerBatch()
    {
        // 300 a minute with bursts of 60: batches of 6. A client making 4 requests a second never runs the bucket dry.
        using var bucket = Bucket(perMinute: 300, burst: 60);

        for (var i = 0; i < 120; i++)
        {
            using var lease = await bucket.AcquireAsync(1);
            Assert.That(lease.IsAcquired, Is.True, $"request {i}");
            clock.Advance(TimeSpan.FromMilliseconds(250));
        }

        await Task.Delay(50); // the early claim the last request started
        Assert.That(store.Calls, Is.InRange(120 / 6, 120 / 6 + 2), "one claim (a read and a write) per six requests");
    }

    [Test]
    public async Task AcquireAsync_FloodAgainstAnEmptyBucket_DoesNotReadStorageUntilATokenIsDue()
    {
        using var bucket = Bucket(perMinute: 60, burst: 5);
        Assert.That(await AdmittedAsync(bucket, 5), Is.EqualTo(5), "precondition: the burst is spent");
        var callsWhenEmpty = store.Calls;

        var flood = await AdmittedAsync(bucket, 500);
        clock.Advance(TimeSpan.FromSeconds(1));
        var afterASecond = await AdmittedAsync(bucket, 500);

        Assert.Multiple(() =>
        {
            Assert.That(flood, Is.Zero);
            Assert.That(afterASecond, Is.EqualTo(1));
            Assert.That(store.Calls - callsWhenEmpty, Is.LessThanOrEqualTo(3), "1,000 refused requests cost a read or two, not 1,000");
        });
    }

    [Test]
    public async Task AcquireAsync_LeaseMetadata_TellsRemainingAndReset()
    {
        using var bucket = Bucket(perMinute: 60, burst: 10);

        using var lease = await bucket.AcquireAsync(1);

        Assert.Multiple(() =>
        {
            Assert.That(lease.IsAcquired, Is.True);
            Assert.That(lease.TryGetMetadata(BucketLease.Remaining, out var remaining), Is.True);
            Assert.That(remaining, Is.EqualTo(9));
            Assert.That(lease.TryGetMetadata(BucketLease.Reset, out var reset), Is.True);
            Assert.That(reset, Is.EqualTo(TimeSpan.FromSeconds(1)), "one token short of full at one a second");
        });
    }

    [Test]
    public async Task AcquireAsync_SharedStoreFails_LimitsThisInstanceAloneAtTheConfiguredRate()
    {
        var failing = new Mock<IRateLimitStore>(MockBehavior.Strict);
        failing.Setup(s => s.ClaimAsync(It.IsAny<string>(), It.IsAny<BucketPolicy>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new RequestFailedException(503, "Service unavailable"));
        var policy = new RateLimitPolicy("per-key", 60, 10);
        using var bucket = new SharedTokenBucket(failing.Object, "key-x", policy.Shape, policy.Batch, clock, NullLogger.Instance);

        var first = await AdmittedAsync(bucket, 5);
        clock.Advance(TimeSpan.FromSeconds(1));
        var second = await AdmittedAsync(bucket, 5);

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(1), "a batch of one, as the shared bucket would have given");
            Assert.That(second, Is.EqualTo(1), "the next after one token's time");
        });
    }

    SharedTokenBucket Bucket(int perMinute, int burst)
    {
        var policy = new RateLimitPolicy("per-key", perMinute, burst);
        return new SharedTokenBucket(store, "key-" + TestContext.CurrentContext.Test.ID, policy.Shape, policy.Batch, clock, NullLogger.Instance);
    }

    static async Task<int> AdmittedAsync(RateLimiter bucket, int requests)
    {
        var admitted = 0;
        for (var i = 0; i < requests; i++)
        {
            using var lease = await bucket.AcquireAsync(1);
            admitted += lease.IsAcquired ? 1 : 0;
        }

        return admitted;
    }

    /// <summary>The shared store, counting the claims that reach it.</summary>
    sealed class CountingStore(IRateLimitStore inner) : IRateLimitStore
    {
        int calls;

        public int Calls => Volatile.Read(ref calls);

        public Task<BucketClaim> ClaimAsync(string bucket, BucketPolicy policy, int wanted, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref calls);
            return inner.ClaimAsync(bucket, policy, wanted, cancellationToken);
        }

        public Task ForgetAsync(string bucket, CancellationToken cancellationToken) => inner.ForgetAsync(bucket, cancellationToken);
    }
}
