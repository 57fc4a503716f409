using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Functions.Streaming;
using Orchflow.Tests.Activities;
using Orchflow.Tests.Models;

namespace Orchflow.Tests.Functions.Streaming;

/// <summary>
/// What a subscriber of a run's live stream is sent: the log's events, and the text tasks write as pieces with their
/// offsets, from this process's writers at once and from other instances' through storage; the text so far first on
/// connecting, offset 0 again when a task writes anew, nothing of it when the client asked for none.
/// </summary>
[TestFixture]
public sealed class RunEventHubTests
{
    const string RunId = "run_live";
    const int PollMs = 20;
    static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Test]
    public async Task NextAsync_TextWrittenInThisProcess_IsSentAsItGrowsWithItsOffsets()
    {
        var (hub, live, _, _) = Hub();
        using var subscription = hub.Subscribe(RunId, after: 1);
        await using var writer = live.Open(RunId, "T2");

        writer.Append("## Research ");
        var first = await Deltas(subscription);
        writer.Append("pricing\n");
        var second = await Deltas(subscription);

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(new[] { new OutputDelta("T2", 0, "## Research ") }));
            Assert.That(second, Is.EqualTo(new[] { new OutputDelta("T2", 12, "pricing\n") }));
        });
    }

    [Test]
    public async Task NextAsync_TextAnotherInstanceIsWriting_ArrivesThroughStorageFromItsStartOnConnecting()
    {
        var (hub, _, texts, log) = Hub();
        log.Add(Entry(2, EventTypes.RunRunning, null));
        await texts.WriteAsync(RunId, new LiveText(null, "g1", "The final output so far", Done: false), CancellationToken.None);

        using var subscription = hub.Subscribe(RunId, after: 2);
        var first = await Deltas(subscription);
        await texts.WriteAsync(RunId, new LiveText(null, "g1", "The final output so far, and more.", Done: false), CancellationToken.None);
        var second = await Deltas(subscription);

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(new[] { new OutputDelta(null, 0, "The final output so far") }));
            Assert.That(second, Is.EqualTo(new[] { new OutputDelta(null, 23, ", and more.") }));
        });
    }

    [Test]
    public async Task NextAsync_TaskWritingAnew_StartsAgainAtOffsetZero()
    {
        var (hub, _, texts, log) = Hub();
        log.Add(Entry(2, EventTypes.TaskStarted, "T2"));
        using var subscription = hub.Subscribe(RunId, after: 2);
        await texts.WriteAsync(RunId, new LiveText("T2", "first", "A draft that was cut", Done: false), CancellationToken.None);
        await Deltas(subscription);

        await texts.WriteAsync(RunId, new LiveText("T2", "second", "A new", Done: false), CancellationToken.None);

        Assert.That(await Deltas(subscription), Is.EqualTo(new[] { new OutputDelta("T2", 0, "A new") }));
    }

    [Test]
    public async Task NextAsync_TextsFinishedBeforeConnecting_AreNotSent()
    {
        var (hub, live, texts, log) = Hub();
        await texts.WriteAsync(RunId, new LiveText("T1", "g", "Done long ago.", Done: true), CancellationToken.None);
        using var subscription = hub.Subscribe(RunId, after: 1);
        log.Add(Entry(2, EventTypes.TaskStarted, "T2"));
        hub.Logged("acc", RunId, []);

        var items = await subscription.NextAsync(Wait, CancellationToken.None);
        await using var writer = live.Open(RunId, "T2");
        writer.Append("Now.");
        var next = await subscription.NextAsync(Wait, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(items.Select(i => i.Entry?.Sequence), Is.EqualTo(new long?[] { 2 }));
            Assert.That(next.Select(i => i.Delta), Is.EqualTo(new[] { new OutputDelta("T2", 0, "Now.") }), "only the text being written");
        });
    }

    [Test]
    public async Task Subscribe_NothingWrittenElsewhere_StoredTextsAreNotRead()
    {
        var (hub, live, texts, log) = Hub();
        log.Add(Entry(2, EventTypes.RunRunning, null));
        log.Add(Entry(3, EventTypes.TaskStarted, "T2"));
        await using var writer = live.Open(RunId, "T2");
        using var subscription = hub.Subscribe(RunId, after: 3);

        writer.Append("Written here.");
        var delta = await Deltas(subscription);
        var logReads = hub.Reads;
        await Task.Delay(200);

        Assert.Multiple(() =>
        {
            Assert.That(delta, Is.EqualTo(new[] { new OutputDelta("T2", 0, "Written here.") }));
            Assert.That(hub.Reads, Is.GreaterThan(logReads), "the log is still polled");
            Assert.That(texts.Reads, Is.Zero, "the only text being written is this process's own");
        });
    }

    [Test]
    public async Task Subscribe_TaskWrittenElsewhere_IsReadUntilTheLogSaysItEnded()
    {
        var (hub, _, texts, log) = Hub();
        log.Add(Entry(2, EventTypes.TaskStarted, "T2"));
        await texts.WriteAsync(RunId, new LiveText("T2", "g", "Elsewhere", Done: false), CancellationToken.None);
        using var subscription = hub.Subscribe(RunId, after: 2);
        Assert.That(await Deltas(subscription), Is.EqualTo(new[] { new OutputDelta("T2", 0, "Elsewhere") }));

        log.Add(Entry(3, EventTypes.TaskCompleted, "T2"));
        hub.Logged("acc", RunId, []);
        await subscription.NextAsync(Wait, CancellationToken.None);
        var readsWhenEnded = texts.Reads;
        await Task.Delay(200);

        Assert.That(texts.Reads, Is.LessThanOrEqualTo(readsWhenEnded + 1), "no task is running: at most a read already under way");
    }

    [Test]
    public async Task NextAsync_ClientHadTheRunsLastEventBeforeConnecting_IsOverAtOnceInsteadOfWaiting()
    {
        var (hub, _, _, log) = Hub();
        log.Add(Entry(2, EventTypes.RunCompleted, null));
        using var subscription = hub.Subscribe(RunId, after: 2);

        var waited = System.Diagnostics.Stopwatch.StartNew();
        var items = await subscription.NextAsync(Wait, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(items, Is.Empty);
            Assert.That(subscription.Over, Is.True, "nothing more will come: the stream ends and the client's reconnect is told so");
            Assert.That(waited.Elapsed, Is.LessThan(Wait / 2), "not held until its wait is over");
        });
    }

    [Test]
    public async Task Logged_EventsThisProcessLogged_ReachSubscribersFromMemory()
    {
        var (hub, _, _, _) = Hub();
        using var subscription = hub.Subscribe(RunId, after: 1);
        await WhenHeld(hub, 1);

        // Logged here and handed over: the test's stored log never holds it, so only memory can deliver it.
        hub.Logged("acc", RunId, [Entry(2, EventTypes.RunPlanning, null)]);

        var items = await subscription.NextAsync(Wait, CancellationToken.None);
        Assert.That(items.Select(i => i.Entry?.Sequence), Is.EqualTo(new long?[] { 2 }));
    }

    [Test]
    public async Task Logged_AfterEventsLoggedElsewhere_ReadsTheGapFromStorage()
    {
        var (hub, _, _, log) = Hub();
        using var subscription = hub.Subscribe(RunId, after: 1);
        await WhenHeld(hub, 1);
        log.Add(Entry(2, EventTypes.RunPlanning, null));
        log.Add(Entry(3, EventTypes.RunPlanned, null));

        hub.Logged("acc", RunId, [log[^1]]);

        var sequences = new List<long?>();
        while (sequences.Count < 2)
        {
            sequences.AddRange((await subscription.NextAsync(Wait, CancellationToken.None)).Select(i => i.Entry?.Sequence));
        }

        Assert.That(sequences, Is.EqualTo(new long?[] { 2, 3 }), "the one logged elsewhere first, each once");
    }

    [Test]
    public async Task Subscribe_RunLoggedWholeInThisProcess_StartsFromMemoryWithoutReadingAPage()
    {
        var store = new ListedLog([Entry(1, EventTypes.RunQueued, null)]);
        var hub = HubOn(store);
        // Logged here from the first event; the stored log the test gives has only the first, so only memory holds the rest.
        hub.Logged("acc", RunId, [Entry(1, EventTypes.RunQueued, null)]);
        hub.Logged("acc", RunId, [Entry(2, EventTypes.RunPlanning, null), Entry(3, EventTypes.RunPlanned, null)]);

        using var subscription = hub.Subscribe(RunId, after: 0, output: false);
        var items = await subscription.NextAsync(Wait, CancellationToken.None);
        await WhenProbed(store);

        Assert.Multiple(() =>
        {
            Assert.That(items.Select(i => i.Entry?.Sequence), Is.EqualTo(new long?[] { 1, 2, 3 }));
            Assert.That(store.PageReads, Is.Zero, "the log came from memory");
            Assert.That(store.Probes, Does.Contain(4L), "what follows is still looked for, in case another instance logged it");
        });
    }

    [Test]
    public async Task Subscribe_RunLoggedWholeInThisProcess_ProbesAgainAfterOnePollIntervalAsAfterAFirstPage()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var (store, _, subscription) = await SubscribedAfterLoggingHereAsync(clock);
        using var _ = subscription;

        var due = await TimerAsync(clock, 1);

        Assert.That(due, Is.EqualTo(TimeSpan.FromMilliseconds(PollMs)), "another instance's next event is looked for as soon as after a page read");
    }

    [Test]
    public async Task Subscribe_RunMovingInThisProcess_IsProbedOnlyOnceItHasBeenQuietHereForAPollInterval()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var (store, hub, subscription) = await SubscribedAfterLoggingHereAsync(clock);
        using var _ = subscription;
        await TimerAsync(clock, 1);

        var half = TimeSpan.FromMilliseconds(PollMs / 2);
        clock.Advance(half);
        store.Add(Entry(2, EventTypes.RunPlanning, null));
        hub.Logged("acc", RunId, [store.Log[^1]]);
        clock.Advance(half);
        var waitedAgain = await TimerAsync(clock, 2);
        var probesMeanwhile = store.Probes;
        clock.Advance(half);
        await WhenProbed(store, times: 2);

        Assert.Multiple(() =>
        {
            Assert.That(probesMeanwhile, Is.EqualTo(new[] { 2L }), "no probe a poll interval after the last one: the run moved here since");
            Assert.That(waitedAgain, Is.EqualTo(half), "the probe waits for a poll interval after this process's last event");
            Assert.That(store.Probes, Is.EqualTo(new[] { 2L, 3L }), "then it looks for what another instance may have logged");
        });
    }

    [Test]
    public async Task Subscribe_RunLoggedHereThenElsewhere_TheRestIsReadFromStorageInOrder()
    {
        var store = new ListedLog([Entry(1, EventTypes.RunQueued, null), Entry(2, EventTypes.RunPlanning, null)]);
        var hub = HubOn(store);
        hub.Logged("acc", RunId, [store.Log[0]]);
        hub.Logged("acc", RunId, [store.Log[1]]);
        // Another instance logs the next two: this process never hears of them.
        store.Add(Entry(3, EventTypes.RunPlanned, null));
        store.Add(Entry(4, EventTypes.RunRunning, null));

        using var subscription = hub.Subscribe(RunId, after: 0, output: false);
        var sequences = new List<long?>();
        while (sequences.Count < 4)
        {
            var items = await subscription.NextAsync(Wait, CancellationToken.None);
            Assert.That(items, Is.Not.Empty, $"only {sequences.Count} events came");
            sequences.AddRange(items.Select(i => i.Entry?.Sequence));
        }

        Assert.Multiple(() =>
        {
            Assert.That(sequences, Is.EqualTo(new long?[] { 1, 2, 3, 4 }), "each once, in order");
            Assert.That(store.PageReads, Is.EqualTo(1), "one page, from the event after what memory held");
        });
    }

    [Test]
    public async Task NextAsync_ClientThatAskedForNoOutput_GetsTheEventsOnly()
    {
        var (hub, live, _, log) = Hub();
        using var subscription = hub.Subscribe(RunId, after: 1, output: false);
        await using var writer = live.Open(RunId, "T2");
        writer.Append("Unseen.");
        log.Add(Entry(2, EventTypes.TaskCompleted, "T2"));
        hub.Logged("acc", RunId, []);

        var items = await subscription.NextAsync(Wait, CancellationToken.None);

        Assert.That(items.Select(i => (i.Entry?.Sequence, i.Delta)), Is.EqualTo(new (long?, OutputDelta?)[] { (2, null) }));
    }

    /// <summary>Waits until the run's feed holds its log up to <paramref name="sequence"/>, through a second subscriber from the start.</summary>
    static async Task WhenHeld(RunEventHub hub, long sequence)
    {
        using var probe = hub.Subscribe(RunId, after: 0, output: false);
        long seen = 0;
        while (seen < sequence)
        {
            var items = await probe.NextAsync(Wait, CancellationToken.None);
            Assert.That(items, Is.Not.Empty, $"the feed never held event {sequence}");
            seen = items.Max(i => i.Entry?.Sequence ?? 0);
        }
    }

    /// <summary>The next pieces of text sent, waiting for at least one.</summary>
    static async Task<IReadOnlyList<OutputDelta>> Deltas(RunSubscription subscription)
    {
        var items = await subscription.NextAsync(Wait, CancellationToken.None);
        Assert.That(items, Is.Not.Empty, "nothing was sent within the wait");
        return items.Select(i => i.Delta).OfType<OutputDelta>().ToList();
    }

    /// <summary>The wait of the <paramref name="nth"/> timer the feed set, once it set it.</summary>
    static async Task<TimeSpan> TimerAsync(ManualTimeProvider clock, int nth)
    {
        for (var waited = 0; ; waited += 10)
        {
            if (clock.DueTimes.ToList() is { } due && due.Count >= nth)
            {
                return due[nth - 1];
            }

            Assert.That(waited, Is.LessThan(Wait.TotalMilliseconds), $"the feed never waited {nth} times");
            await Task.Delay(10);
        }
    }

    /// <summary>Waits until the feed has looked in storage for what follows what it holds, <paramref name="times"/> times.</summary>
    static async Task WhenProbed(ListedLog store, int times = 1)
    {
        for (var waited = 0; store.Probes.Count < times; waited += 10)
        {
            Assert.That(waited, Is.LessThan(Wait.TotalMilliseconds), "the feed never probed the stored log");
            await Task.Delay(10);
        }
    }

    static (RunEventHub Hub, Orchflow.Live.LiveOutputs Live, MemoryLiveOutputStore Texts, List<RunLogEntry> Log) Hub()
    {
        var texts = new MemoryLiveOutputStore();
        var live = texts.Outputs(flushMs: 10_000);
        var store = new ListedLog([Entry(1, EventTypes.RunQueued, null)]);
        return (HubOn(store, texts, live), live, texts, store.Log);
    }

    static RunEventHub HubOn(ListedLog store, MemoryLiveOutputStore? texts = null, Orchflow.Live.LiveOutputs? live = null, TimeProvider? clock = null)
    {
        texts ??= new MemoryLiveOutputStore();
        return new RunEventHub(store, texts, live ?? texts.Outputs(flushMs: 10_000), Options.Create(new StreamOptions { PollMs = PollMs, OutputPollMs = 20 }),
            clock ?? TimeProvider.System, NullLogger<RunEventHub>.Instance);
    }

    /// <summary>
    /// A run whose first event this process logged, on <paramref name="clock"/>, subscribed to from its start, once the feed
    /// has made its first probe for what another instance may log next.
    /// </summary>
    static async Task<(ListedLog Store, RunEventHub Hub, RunSubscription Subscription)> SubscribedAfterLoggingHereAsync(ManualTimeProvider clock)
    {
        var store = new ListedLog([Entry(1, EventTypes.RunQueued, null)]);
        var hub = HubOn(store, clock: clock);
        hub.Logged("acc", RunId, [Entry(1, EventTypes.RunQueued, null)]);
        var subscription = hub.Subscribe(RunId, after: 0, output: false);
        await WhenProbed(store);
        return (store, hub, subscription);
    }

    static RunLogEntry Entry(long sequence, string type, string? taskId) => new(sequence, type, DateTimeOffset.UtcNow, taskId, new JsonObject());

    /// <summary>A run's log the test appends to, counting the feed's page reads and the sequences it probed for.</summary>
    sealed class ListedLog(List<RunLogEntry> log) : IRunEventStore
    {
        readonly List<long> probes = [];
        int pageReads;

        public List<RunLogEntry> Log => log;

        public int PageReads => Volatile.Read(ref pageReads);

        public IReadOnlyList<long> Probes
        {
            get
            {
                lock (log)
                {
                    return probes.ToList();
                }
            }
        }

        public void Add(RunLogEntry entry)
        {
            lock (log)
            {
                log.Add(entry);
            }
        }

        public Task<IReadOnlyList<RunLogEntry>> ReadAsync(string runId, long after, int limit, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref pageReads);
            lock (log)
            {
                return Task.FromResult<IReadOnlyList<RunLogEntry>>(log.Where(e => e.Sequence > after).Take(limit).ToList());
            }
        }

        public Task<bool> LoggedAsync(string runId, long sequence, CancellationToken cancellationToken)
        {
            lock (log)
            {
                probes.Add(sequence);
                return Task.FromResult(log.Any(e => e.Sequence == sequence));
            }
        }

        public Task<RunEventPage?> ListAsync(string accountId, string runId, long after, int limit, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<RunMark?> MarkAsync(string accountId, string runId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunMark?> RecentMarkAsync(string accountId, string runId, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
