using Orchflow.Abstractions;
using Orchflow.Infrastructure.Secrets;
using Orchflow.Tests.Models;

namespace Orchflow.Tests.Infrastructure;

/// <summary>The one cache in front of the secret store: what it keeps, for how long, and what makes it forget.</summary>
[TestFixture]
public sealed class CachedSecretStoreTests
{
    static readonly CancellationToken None = CancellationToken.None;

    ManualTimeProvider clock = null!;
    MemoryStore store = null!;

    [SetUp]
    public void CreateStore()
    {
        clock = new ManualTimeProvider(new DateTimeOffset(2026, 12, 6, 9, 0, 0, TimeSpan.Zero));
        store = new MemoryStore();
    }

    [Test]
    public async Task GetAsync_ReadTwice_ReachesTheStoreOnce()
    {
        await store.SetAsync("provider-a", "sk-a", None);
        var cached = new CachedSecretStore(store, clock);

        var first = await cached.GetAsync("provider-a", None);
        var second = await cached.GetAsync("provider-a", None);

        Assert.Multiple(() =>
        {
            Assert.That((first, second), Is.EqualTo(("sk-a", "sk-a")));
            Assert.That(store.Reads, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task GetAsync_AfterTheValueExpired_ReadsTheStoreAgain()
    {
        await store.SetAsync("provider-a", "sk-a", None);
        var cached = new CachedSecretStore(store, clock);
        await cached.GetAsync("provider-a", None);

        clock.Advance(CachedSecretStore.KeepFor - TimeSpan.FromSeconds(1));
        await cached.GetAsync("provider-a", None);
        var readsWhileKept = store.Reads;
        clock.Advance(TimeSpan.FromSeconds(1));
        await cached.GetAsync("provider-a", None);

        Assert.Multiple(() =>
        {
            Assert.That(readsWhileKept, Is.EqualTo(1), "kept until KeepFor has passed");
            Assert.That(store.Reads, Is.EqualTo(2), "read again once it has");
        });
    }

    [Test]
    public async Task GetAsync_AfterADeleteThroughTheCache_IsGone()
    {
        await store.SetAsync("webhook-a-1", "whsec_a", None);
        var cached = new CachedSecretStore(store, clock);
        await cached.GetAsync("webhook-a-1", None);

        await cached.DeleteAsync("webhook-a-1", None);

        Assert.That(await cached.GetAsync("webhook-a-1", None), Is.Null);
    }

    [Test]
    public async Task GetAsync_AfterASetThroughTheCache_IsTheNewValue()
    {
        var cached = new CachedSecretStore(store, clock);
        await cached.SetAsync("idem-a", "first", None);
        await cached.GetAsync("idem-a", None);

        await cached.SetAsync("idem-a", "second", None);

        Assert.That(await cached.GetAsync("idem-a", None), Is.EqualTo("second"));
    }

    [Test]
    public async Task GetAsync_MissingSecret_IsNotKept()
    {
        var cached = new CachedSecretStore(store, clock);
        Assert.That(await cached.GetAsync("provider-late", None), Is.Null);

        // Written by another instance meanwhile: this one must not go on answering that it is missing.
        await store.SetAsync("provider-late", "sk-late", None);

        Assert.That(await cached.GetAsync("provider-late", None), Is.EqualTo("sk-late"));
    }

    [Test]
    public async Task GetAsync_DeletedWhileItWasBeingRead_DoesNotKeepWhatItRead()
    {
        await store.SetAsync("provider-a", "sk-a", None);
        var cached = new CachedSecretStore(store, clock);
        var reading = new TaskCompletionSource();
        store.AnswerAfter = () => reading.Task;

        var read = cached.GetAsync("provider-a", None);
        await cached.DeleteAsync("provider-a", None);
        reading.SetResult();
        await read;
        store.AnswerAfter = null;

        Assert.That(await cached.GetAsync("provider-a", None), Is.Null);
    }

    [Test]
    public async Task GetAsync_MoreSecretsThanItsCapacity_KeepsAtMostThatManyDroppingTheOldest()
    {
        var cached = new CachedSecretStore(store, clock, capacity: 2);
        foreach (var name in new[] { "s1", "s2", "s3" })
        {
            await store.SetAsync(name, "v-" + name, None);
            await cached.GetAsync(name, None);
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        var readsBefore = store.Reads;
        await cached.GetAsync("s3", None);
        await cached.GetAsync("s2", None);
        var keptReads = store.Reads - readsBefore;
        await cached.GetAsync("s1", None);

        Assert.Multiple(() =>
        {
            Assert.That(keptReads, Is.Zero, "the two newest are kept");
            Assert.That(store.Reads - readsBefore, Is.EqualTo(1), "the oldest was dropped");
        });
    }

    /// <summary>A secret store in memory that counts the reads reaching it and can hold a read's answer back.</summary>
    sealed class MemoryStore : ISecretStore
    {
        readonly Dictionary<string, string> values = [];

        public int Reads { get; private set; }

        /// <summary>What a read waits for after it has read the value, so a test can change the store before the answer arrives.</summary>
        public Func<Task>? AnswerAfter { get; set; }

        public Task SetAsync(string name, string value, CancellationToken cancellationToken)
        {
            values[name] = value;
            return Task.CompletedTask;
        }

        public async Task<string?> GetAsync(string name, CancellationToken cancellationToken)
        {
            Reads++;
            var value = values.GetValueOrDefault(name);
            if (AnswerAfter is { } wait)
            {
                await wait();
            }

            return value;
        }

        public Task DeleteAsync(string name, CancellationToken cancellationToken)
        {
            values.Remove(name);
            return Task.CompletedTask;
        }
    }
}
