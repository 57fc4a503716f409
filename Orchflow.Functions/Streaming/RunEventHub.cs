using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Functions.Streaming;

/// <summary>
/// The run events this instance streams. A watched run has one feed here however many clients watch it: the feed reads
/// the run's log from storage at once when this process logs an event of the run, and every
/// <see cref="StreamOptions.PollMs"/> otherwise (an event logged by another instance), and each subscriber takes what
/// it has not seen from what the feed holds. So storage reads grow with the runs watched, not with the watchers.
/// </summary>
public sealed class RunEventHub(IRunEventStore store, IOptions<StreamOptions> options, ILogger<RunEventHub> log) : IRunLogObserver
{
    readonly IRunEventStore store = store;
    readonly TimeSpan poll = TimeSpan.FromMilliseconds(options.Value.PollMs);
    readonly ILogger log = log;
    readonly Dictionary<string, RunFeed> feeds = [];
    readonly Lock gate = new();
    long reads;

    /// <summary>Reads of the event log made by every feed so far: what streaming costs storage.</summary>
    public long Reads => Interlocked.Read(ref reads);

    /// <summary>Subscribers watching runs here now.</summary>
    public int Subscribers
    {
        get
        {
            lock (gate)
            {
                return feeds.Values.Sum(f => f.Subscribers);
            }
        }
    }

    public void Logged(string accountId, string runId, IReadOnlyList<RunLogEntry> entries)
    {
        RunFeed? feed;
        lock (gate)
        {
            feeds.TryGetValue(runId, out feed);
        }

        feed?.Wake();
    }

    /// <summary>Watches a run whose owner the caller has checked, from the first event after <paramref name="after"/>.</summary>
    public RunSubscription Subscribe(string runId, long after)
    {
        lock (gate)
        {
            if (!feeds.TryGetValue(runId, out var feed))
            {
                feeds[runId] = feed = new RunFeed(this, runId);
                feed.Start();
            }

            feed.Subscribers++;
            return new RunSubscription(feed, after, () => Release(feed));
        }
    }

    void Release(RunFeed feed)
    {
        lock (gate)
        {
            if (--feed.Subscribers == 0)
            {
                feeds.Remove(feed.RunId);
                feed.Stop();
            }
        }
    }

    /// <summary>One run's log as read so far, and the loop that reads it.</summary>
    internal sealed class RunFeed(RunEventHub hub, string runId)
    {
        const int Page = 1000;

        readonly List<RunLogEntry> entries = [];
        readonly CancellationTokenSource stop = new();
        TaskCompletionSource changed = NewSignal();
        TaskCompletionSource wake = NewSignal();

        public string RunId => runId;

        /// <summary>Counted under the hub's lock.</summary>
        public int Subscribers { get; set; }

        public void Start() => _ = ReadLoopAsync();

        public void Stop() => stop.Cancel();

        public void Wake()
        {
            lock (entries)
            {
                wake.TrySetResult();
            }
        }

        /// <summary>What the feed holds after <paramref name="sequence"/>, and a task that completes when it holds more.</summary>
        public (List<RunLogEntry> Entries, Task Changed) After(long sequence)
        {
            lock (entries)
            {
                return (entries.Where(e => e.Sequence > sequence).ToList(), changed.Task);
            }
        }

        async Task ReadLoopAsync()
        {
            long last = 0;
            while (!stop.IsCancellationRequested)
            {
                Task woken;
                lock (entries)
                {
                    woken = wake.Task;
                }

                try
                {
                    var page = await hub.store.ReadAsync(runId, last, Page, stop.Token);
                    Interlocked.Increment(ref hub.reads);
                    if (page.Count > 0)
                    {
                        last = page[^1].Sequence;
                        Publish(page);
                        if (page[^1].IsTerminal)
                        {
                            // Nothing follows a run's last event: late subscribers replay what is held.
                            return;
                        }

                        if (page.Count == Page)
                        {
                            continue;
                        }
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (RequestFailedException e)
                {
                    hub.log.LogWarning(e, "The event log of run {RunId} could not be read; trying again", runId);
                }

                try
                {
                    await woken.WaitAsync(hub.poll, stop.Token);
                }
                catch (TimeoutException)
                {
                    // Nothing logged here: read anyway, for what other instances logged.
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }

                lock (entries)
                {
                    if (wake.Task.IsCompleted)
                    {
                        wake = NewSignal();
                    }
                }
            }
        }

        void Publish(IReadOnlyList<RunLogEntry> page)
        {
            TaskCompletionSource done;
            lock (entries)
            {
                entries.AddRange(page);
                done = changed;
                changed = NewSignal();
            }

            done.TrySetResult();
        }

        static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>One client watching a run: the events it has not seen yet, as the run's feed gets them.</summary>
public sealed class RunSubscription : IDisposable
{
    readonly RunEventHub.RunFeed feed;
    readonly Action release;
    long position;
    int disposed;

    internal RunSubscription(RunEventHub.RunFeed feed, long after, Action release)
    {
        this.feed = feed;
        this.release = release;
        position = after;
    }

    /// <summary>The next events, in order; empty when none came within <paramref name="wait"/>.</summary>
    public async Task<IReadOnlyList<RunLogEntry>> NextAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            var (entries, changed) = feed.After(position);
            if (entries.Count > 0)
            {
                position = entries[^1].Sequence;
                return entries;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return [];
            }

            try
            {
                await changed.WaitAsync(left, cancellationToken);
            }
            catch (TimeoutException)
            {
                return [];
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            release();
        }
    }
}
