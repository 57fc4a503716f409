using Azure;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Functions.Streaming;

/// <summary>
/// One watched run as this instance holds it: its log as known so far, the texts its tasks are writing, and the loop
/// that reads what other instances wrote. What this process logs or writes reaches the feed from memory, the moment it
/// is written, with no storage read. For the rest the loop polls: it probes for the log's next event by one point read
/// and reads the page from there only when it exists, every <see cref="StreamOptions.PollMs"/> while probes find events
/// logged elsewhere, less often (down to every <see cref="StreamOptions.IdlePollMs"/>) while they do not, and not while
/// events keep coming from this process (one logged elsewhere before them shows as a gap); while clients watch
/// the texts and the log says a task (or the synthesis) is being written by another instance, it reads that text by one
/// point read every <see cref="StreamOptions.OutputPollMs"/> while it grows, less often (down to every poll interval)
/// while it does not.
/// A feed starts from the run's log as this process logged it, when it holds that (<see cref="RunLogTails"/>), so its
/// first read is a probe for what follows instead of the log's first page.
/// </summary>
sealed class RunFeed
{
    const int Page = 1000;

    readonly RunEventHub hub;
    readonly string runId;
    readonly List<RunLogEntry> entries;
    readonly Dictionary<string, LiveText> texts = new(StringComparer.Ordinal);
    readonly RunWriters writers = new();
    readonly CancellationTokenSource stop = new();
    TaskCompletionSource changed = NewSignal();
    TaskCompletionSource wake = NewSignal();
    bool ended;

    /// <summary>When the feed last took events it did not hold, from memory or from storage.</summary>
    DateTimeOffset heldAt = DateTimeOffset.MinValue;

    /// <param name="held">The run's log from its first event, as far as this process knows it without a read; may be empty.</param>
    public RunFeed(RunEventHub hub, string runId, IReadOnlyList<RunLogEntry> held)
    {
        this.hub = hub;
        this.runId = runId;
        entries = [.. held];
        writers.Follow(held);
        ended = held.Count > 0 && held[^1].IsTerminal;
    }

    public string RunId => runId;

    /// <summary>Counted under the hub's lock.</summary>
    public int Subscribers { get; set; }

    /// <summary>Subscribers that want the texts tasks write; counted under the hub's lock.</summary>
    public int TextWatchers { get; set; }

    /// <summary>The last sequence the feed holds, every event up to it included.</summary>
    long Last => entries.Count == 0 ? 0 : entries[^1].Sequence;

    public void Start() => _ = ReadLoopAsync();

    public void Stop() => stop.Cancel();

    /// <summary>Has the loop look again now (a subscriber came for the texts).</summary>
    public void Wake()
    {
        lock (entries)
        {
            wake.TrySetResult();
        }
    }

    /// <summary>
    /// Events this process has just logged: held at once when they follow what the feed holds; after a gap (an event
    /// logged elsewhere in between), the loop reads the log from storage now.
    /// </summary>
    public void Logged(IReadOnlyList<RunLogEntry> logged)
    {
        lock (entries)
        {
            if (logged.Count == 0 || logged[0].Sequence > Last + 1)
            {
                wake.TrySetResult();
                return;
            }
        }

        Hold(logged);
    }

    /// <summary>A text of the run grew in this process: taken from memory, no storage read.</summary>
    public void TextsChanged()
    {
        if (Volatile.Read(ref ended) is false)
        {
            Take(hub.Live.Snapshot(runId));
        }
    }

    /// <summary>
    /// What the feed holds after <paramref name="sequence"/>, its texts, and a task that completes when it holds more;
    /// <c>Over</c> when the run's last event is held and is not after <paramref name="sequence"/>: nothing more will come.
    /// </summary>
    public (List<RunLogEntry> Entries, IReadOnlyList<LiveText> Texts, Task Changed, bool Over) After(long sequence)
    {
        lock (entries)
        {
            return (entries.Where(e => e.Sequence > sequence).ToList(), texts.Values.ToList(), changed.Task, ended && Last <= sequence);
        }
    }

    async Task ReadLoopAsync()
    {
        var clock = hub.Clock;
        var readLog = true;
        var logDue = clock.GetUtcNow();
        var logEvery = TimeSpan.FromMilliseconds(hub.Options.PollMs);
        var textPolls = new TextPolls(hub.Options);
        // A feed started from memory had the log's events as a first page would have brought them: its first probe
        // backs off no more than the probe after such a page would, so what another instance logs next is seen as soon.
        bool startedWithEvents;
        lock (entries)
        {
            startedWithEvents = Last > 0;
        }

        while (!stop.IsCancellationRequested && Volatile.Read(ref ended) is false)
        {
            Task woken;
            lock (entries)
            {
                woken = wake.Task;
            }

            try
            {
                if (readLog)
                {
                    var (found, full) = await ReadLogAsync();
                    found |= startedWithEvents;
                    startedWithEvents = false;
                    logEvery = found
                        ? TimeSpan.FromMilliseconds(hub.Options.PollMs)
                        : TimeSpan.FromTicks(Math.Min(2 * logEvery.Ticks, TimeSpan.FromMilliseconds(hub.Options.IdlePollMs).Ticks));
                    logDue = clock.GetUtcNow() + logEvery;
                    if (full)
                    {
                        continue;
                    }
                }

                if (textPolls.Due(clock.GetUtcNow(), TextWatchers, WrittenElsewhere()) is { Count: > 0 } elsewhere)
                {
                    var stored = await Task.WhenAll(elsewhere.Select(task => hub.Texts.ReadAsync(runId, task.Length == 0 ? null : task, stop.Token)));
                    hub.CountReads(stored.Length);
                    textPolls.Read(clock.GetUtcNow(), grew: Take(stored.OfType<LiveText>()));
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (RequestFailedException e)
            {
                hub.Log.LogWarning(e, "The live state of run {RunId} could not be read; trying again", runId);
            }

            var next = textPolls.Next is { } due && due < logDue ? due : logDue;
            try
            {
                if (next > clock.GetUtcNow())
                {
                    await woken.WaitAsync(next - clock.GetUtcNow(), clock, stop.Token);
                }
            }
            catch (TimeoutException)
            {
                // Nothing came here: poll anyway, for what other instances logged and wrote.
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }

            lock (entries)
            {
                // What another instance logged before this process's latest event shows as a gap in it (Logged), so a run
                // moving here is probed only once it has been quiet here for as long as a probe waits.
                if (heldAt + logEvery > logDue)
                {
                    logDue = heldAt + logEvery;
                }

                readLog = wake.Task.IsCompleted || logDue <= clock.GetUtcNow();
                if (wake.Task.IsCompleted)
                {
                    wake = NewSignal();
                }
            }
        }
    }

    /// <summary>
    /// Reads what another instance logged: nothing but a probe for the next event when there is none, else the page
    /// from there. Returns whether it found events the feed did not hold, and whether a full page came (more may follow).
    /// </summary>
    async Task<(bool Found, bool Full)> ReadLogAsync()
    {
        long last;
        lock (entries)
        {
            last = Last;
        }

        // A feed that holds nothing reads the first page whole; after that, a probe costs one point read where a page costs a query.
        if (last > 0)
        {
            hub.CountReads(1);
            if (!await hub.Store.LoggedAsync(runId, last + 1, stop.Token))
            {
                return (false, false);
            }
        }

        var page = await hub.Store.ReadAsync(runId, last, Page, stop.Token);
        hub.CountReads(1);
        return (Hold(page), page.Count == Page);
    }

    /// <summary>
    /// Holds the events that follow what is held, in order, and says whether there were any; the run's last event ends
    /// the feed's reading.
    /// </summary>
    bool Hold(IReadOnlyList<RunLogEntry> page)
    {
        lock (entries)
        {
            var fresh = page.Where(e => e.Sequence > Last).ToList();
            if (fresh.Count == 0)
            {
                return false;
            }

            entries.AddRange(fresh);
            writers.Follow(fresh);
            heldAt = hub.Clock.GetUtcNow();
            if (fresh[^1].IsTerminal)
            {
                // Nothing follows a run's last event: late subscribers replay what is held.
                Volatile.Write(ref ended, true);
                wake.TrySetResult();
            }
        }

        Signal();
        return true;
    }

    /// <summary>
    /// The texts (task ids, "" for the synthesis) clients watch that the log says are being written and this process is
    /// not writing.
    /// </summary>
    List<string> WrittenElsewhere()
    {
        lock (entries)
        {
            return TextWatchers > 0 && !ended ? writers.Writing.Where(task => !hub.Live.IsWriting(runId, task)).ToList() : [];
        }
    }

    /// <summary>
    /// Keeps the newest of each task's texts: a new writing (another generation) replaces the last; within one writing, the
    /// longer text. Storage and memory may disagree for a moment; neither moves a text back.
    /// </summary>
    /// <returns>Whether a text grew or began anew.</returns>
    bool Take(IEnumerable<LiveText> read)
    {
        var moved = false;
        var grew = false;
        lock (entries)
        {
            foreach (var text in read)
            {
                var key = text.TaskId ?? "";
                if (!texts.TryGetValue(key, out var held) || held.Generation != text.Generation && !text.Done ||
                    held.Generation == text.Generation && (text.Text.Length > held.Text.Length || text.Done && !held.Done))
                {
                    grew |= held is null || held.Generation != text.Generation || text.Text.Length > held.Text.Length;
                    texts[key] = text;
                    moved = true;
                }
            }
        }

        if (moved)
        {
            Signal();
        }

        return grew;
    }

    void Signal()
    {
        TaskCompletionSource done;
        lock (entries)
        {
            done = changed;
            changed = NewSignal();
        }

        done.TrySetResult();
    }

    static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// When texts written elsewhere are read next: not while there are none; at once for a client that just came (the
    /// text so far); otherwise a poll interval after such a text began or was last read, the interval doubling (up to
    /// <see cref="StreamOptions.PollMs"/>) while reads bring nothing new.
    /// </summary>
    sealed class TextPolls(StreamOptions options)
    {
        readonly TimeSpan fastest = TimeSpan.FromMilliseconds(options.OutputPollMs);
        readonly TimeSpan slowest = TimeSpan.FromMilliseconds(Math.Max(options.OutputPollMs, options.PollMs));
        TimeSpan every = TimeSpan.FromMilliseconds(options.OutputPollMs);
        int watchersSeen;

        /// <summary>When the next read is due; null while none is.</summary>
        public DateTimeOffset? Next { get; private set; }

        /// <summary>The texts to read now: those written elsewhere, when a read is due; none otherwise.</summary>
        public List<string> Due(DateTimeOffset now, int watchers, List<string> writtenElsewhere)
        {
            var joined = watchers > watchersSeen;
            watchersSeen = watchers;
            if (writtenElsewhere.Count == 0)
            {
                (Next, every) = (null, fastest);
            }
            else if (joined || Next is null)
            {
                // A writer saves what it writes every flush interval: a text just begun has nothing to read yet.
                Next = joined ? now : now + every;
            }

            return Next <= now ? writtenElsewhere : [];
        }

        public void Read(DateTimeOffset now, bool grew)
        {
            every = grew ? fastest : TimeSpan.FromTicks(Math.Min(2 * every.Ticks, slowest.Ticks));
            Next = now + every;
        }
    }
}
