using Orchflow.Abstractions;
using Orchflow.Infrastructure.Storage;
using Orchflow.Tests.Models;

namespace Orchflow.Tests.Infrastructure;

/// <summary>Shared token buckets on Table Storage (Azurite): a new bucket is full, claims never overdraw it, it refills with time.</summary>
[TestFixture]
public sealed class TableRateLimitStoreTests
{
    static readonly BucketPolicy TenPerTenSeconds = new(Capacity: 10, TokensPerSecond: 1);

    ManualTimeProvider clock = null!;
    TableRateLimitStore store = null!;

    [SetUp]
    public void CreateStore()
    {
        clock = new ManualTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        store = new TableRateLimitStore(StorageFixture.NewTables(), clock);
    }

    [Test]
    public async Task ClaimAsync_NewBucket_StartsFull()
    {
        var claim = await store.ClaimAsync("key-new", TenPerTenSeconds, 4, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(claim.Granted, Is.EqualTo(4));
            Assert.That(claim.TokensLeft, Is.EqualTo(6));
        });
    }

    [Test]
    public async Task ClaimAsync_MoreThanIsLeft_GrantsWhatIsLeft()
    {
        await store.ClaimAsync("key-partial", TenPerTenSeconds, 8, CancellationToken.None);

        var claim = await store.ClaimAsync("key-partial", TenPerTenSeconds, 5, CancellationToken.None);
        var empty = await store.ClaimAsync("key-partial", TenPerTenSeconds, 5, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(claim.Granted, Is.EqualTo(2));
            Assert.That(empty.Granted, Is.Zero);
            Assert.That(empty.TokensLeft, Is.Zero);
        });
    }

    [Test]
    public async Task ClaimAsync_AfterTime_RefillsAtTheRateUpToTheCapacity()
    {
        await store.ClaimAsync("key-refill", TenPerTenSeconds, 10, CancellationToken.None);

        clock.Advance(TimeSpan.FromSeconds(3.5));
        var partly = await store.ClaimAsync("key-refill", TenPerTenSeconds, 10, CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(1));
        var full = await store.ClaimAsync("key-refill", TenPerTenSeconds, 100, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(partly.Granted, Is.EqualTo(3));
            Assert.That(partly.TokensLeft, Is.EqualTo(0.5).Within(1e-9), "the half token is kept for later");
            Assert.That(full.Granted, Is.EqualTo(10), "never more than the capacity");
        });
    }

    [Test]
    public async Task ClaimAsync_ManyInstancesAtOnce_NeverGrantMoreThanTheBucketHolds()
    {
        var claims = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ =>
            store.ClaimAsync("key-contended", new BucketPolicy(25, 1), 1, CancellationToken.None)));

        Assert.That(claims.Sum(c => c.Granted), Is.EqualTo(25));
    }

    [Test]
    public async Task ClaimAsync_BucketsOfDifferentKeys_AreIndependent()
    {
        await store.ClaimAsync("key-a", TenPerTenSeconds, 10, CancellationToken.None);

        var other = await store.ClaimAsync("key-b", TenPerTenSeconds, 10, CancellationToken.None);

        Assert.That(other.Granted, Is.EqualTo(10));
    }
}
