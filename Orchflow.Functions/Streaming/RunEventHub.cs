using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Live;

namespace Orchflow.Functions.Streaming;

/// <summary>
/// The runs this instance streams. A watched run has one feed here however many clients watch it: what this process
/// logs or writes of the run reaches the feed from memory at once; what other instances logged and wrote, the feed
/// polls storage for (<see cref="RunFeed"/>). Each subscriber takes what it has not seen
/// from what the feed holds, so storage reads grow with the runs watched, not with the watchers.
/// </summary>
public sealed class RunEventHub : IRunLogObserver
{
    readonly Dictionary<string, RunFeed> feeds = [];
    readonly RunLogTails tails = new();
    readonly Lock gate = new();
    long reads;

    public RunEventHub(
        IRunEventStore store, ILiveOutputStore texts, LiveOutputs live, IOptions<StreamOptions> options, TimeProvider clock, ILogger<RunEventHub> log)
    {
        Store = store;
        Clock = clock;
        Texts = texts;
        Live = live;
        Options = options.Value;
        Log = log;
        live.Changed += Wrote;
    }

    internal IRunEventStore Store { get; }

    internal ILiveOutputStore Texts { get; }

    internal LiveOutputs Live { get; }

    internal StreamOptions Options { get; }

    internal TimeProvider Clock { get; }

    internal ILogger Log { get; }

    /// <summary>Reads of storage made by every feed so far (a run's log, its live texts): what streaming costs.</summary>
    public long Reads => Interlocked.Read(ref reads);

    internal void CountReads(int count) => Interlocked.Add(ref reads, count);

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

    /// <summary>
    /// Events this process has just logged: kept with the run's log while it holds it whole, and handed to the run's feed
    /// if it is watched. Both under the lock, so a feed started meanwhile has them either from the log or from here.
    /// </summary>
    public void Logged(string accountId, string runId, IReadOnlyList<RunLogEntry> entries)
    {
        RunFeed? feed;
        lock (gate)
        {
            tails.Logged(runId, entries);
            feed = feeds.GetValueOrDefault(runId);
        }

        feed?.Logged(entries);
    }

    void Wrote(string runId) => Feed(runId)?.TextsChanged();

    RunFeed? Feed(string runId)
    {
        lock (gate)
        {
            return feeds.GetValueOrDefault(runId);
        }
    }

    /// <summary>
    /// Watches a run whose owner the caller has checked, from the first event after <paramref name="after"/>; with
    /// <paramref name="output"/>, the texts its tasks write too.
    /// </summary>
    public RunSubscription Subscribe(string runId, long after, bool output = true)
    {
        lock (gate)
        {
            if (!feeds.TryGetValue(runId, out var feed))
            {
                feeds[runId] = feed = new RunFeed(this, runId, tails.Of(runId));
                feed.Start();
            }

            feed.Subscribers++;
            if (output)
            {
                // A text another instance is writing is read at once, for the text so far.
                feed.TextWatchers++;
                feed.Wake();
            }

            return new RunSubscription(feed, after, output, () => Release(feed, output));
        }
    }

    void Release(RunFeed feed, bool output)
    {
        lock (gate)
        {
            if (output)
            {
                feed.TextWatchers--;
            }

            if (--feed.Subscribers == 0)
            {
                feeds.Remove(feed.RunId);
                feed.Stop();
            }
        }
    }
}
