using Azure;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Functions.Streaming;

/// <summary>
/// One watched run as this instance holds it: its log as read so far, the texts its tasks are writing, and the loop that
/// reads them. The log is read at once when this process logs an event of the run and every poll interval otherwise;
/// while clients watch the texts, they are read with it (every <see cref="StreamOptions.OutputPollMs"/> while the run is
/// under way), and a text written in this process is taken from memory the moment it grows.
/// </summary>
sealed class RunFeed(RunEventHub hub, string runId)
{
    const int Page = 1000;

    readonly List<RunLogEntry> entries = [];
    readonly Dictionary<string, LiveText> texts = new(StringComparer.Ordinal);
    readonly CancellationTokenSource stop = new();
    TaskCompletionSource changed = NewSignal();
    TaskCompletionSource wake = NewSignal();
    bool ended;

    public string RunId => runId;

    /// <summary>Counted under the hub's lock.</summary>
    public int Subscribers { get; set; }

    /// <summary>Subscribers that want the texts tasks write; counted under the hub's lock.</summary>
    public int TextWatchers { get; set; }

    public void Start() => _ = ReadLoopAsync();

    public void Stop() => stop.Cancel();

    public void Wake()
    {
        lock (entries)
        {
            wake.TrySetResult();
        }
    }

    /// <summary>A text of the run grew in this process: taken from memory, no storage read.</summary>
    public void TextsChanged()
    {
        if (Volatile.Read(ref ended) is false)
        {
            Take(hub.Live.Snapshot(runId));
        }
    }

    /// <summary>What the feed holds after <paramref name="sequence"/>, its texts, and a task that completes when it holds more.</summary>
    public (List<RunLogEntry> Entries, IReadOnlyList<LiveText> Texts, Task Changed) After(long sequence)
    {
        lock (entries)
        {
            return (entries.Where(e => e.Sequence > sequence).ToList(), texts.Values.ToList(), changed.Task);
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

            var watchingTexts = Volatile.Read(ref ended) is false && TextWatchers > 0;
            try
            {
                var page = await hub.Store.ReadAsync(runId, last, Page, stop.Token);
                hub.CountRead();
                if (watchingTexts)
                {
                    // This process's own writers are fresher than what they last saved: storage fills in the rest.
                    var stored = await hub.Texts.ReadAsync(runId, stop.Token);
                    hub.CountRead();
                    Take(stored.Concat(hub.Live.Snapshot(runId)));
                }

                if (page.Count > 0)
                {
                    last = page[^1].Sequence;
                    Publish(page);
                    if (page[^1].IsTerminal)
                    {
                        // Nothing follows a run's last event: late subscribers replay what is held.
                        Volatile.Write(ref ended, true);
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
                hub.Log.LogWarning(e, "The event log of run {RunId} could not be read; trying again", runId);
            }

            try
            {
                await woken.WaitAsync(TimeSpan.FromMilliseconds(watchingTexts ? hub.Options.OutputPollMs : hub.Options.PollMs), stop.Token);
            }
            catch (TimeoutException)
            {
                // Nothing logged here: read anyway, for what other instances logged and wrote.
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
        lock (entries)
        {
            entries.AddRange(page);
        }

        Signal();
    }

    /// <summary>
    /// Keeps the newest of each task's texts: a new writing (another generation) replaces the last; within one writing, the
    /// longer text. Storage and memory may disagree for a moment; neither moves a text back.
    /// </summary>
    void Take(IEnumerable<LiveText> read)
    {
        var moved = false;
        lock (entries)
        {
            foreach (var text in read)
            {
                var key = text.TaskId ?? "";
                if (!texts.TryGetValue(key, out var held) || held.Generation != text.Generation && !text.Done ||
                    held.Generation == text.Generation && (text.Text.Length > held.Text.Length || text.Done && !held.Done))
                {
                    texts[key] = text;
                    moved = true;
                }
            }
        }

        if (moved)
        {
            Signal();
        }
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
}
