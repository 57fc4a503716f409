using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;

namespace Orchflow.Live;

/// <summary>
/// The texts agent tasks and syntheses are writing in this process, as they write them. Live streams here read them
/// from memory the moment they grow (<see cref="Changed"/>, <see cref="Snapshot"/>); each is also saved to storage every
/// <see cref="LiveOutputOptions.FlushMs"/>, coalesced, for streams on other instances (<see cref="ILiveOutputStore"/>).
/// </summary>
public sealed class LiveOutputs(ILiveOutputStore store, IOptions<LiveOutputOptions> options, ILogger<LiveOutputs> log)
{
    readonly ConcurrentDictionary<string, ConcurrentDictionary<string, LiveWriter>> writing = new(StringComparer.Ordinal);

    /// <summary>A text of the run (its id given) grew, restarted or ended in this process.</summary>
    public event Action<string>? Changed;

    /// <summary>Starts one writing of a task's text (the synthesis's: <paramref name="taskId"/> null), from offset 0.</summary>
    public LiveWriter Open(string runId, string? taskId)
    {
        var writer = new LiveWriter(this, runId, taskId, options.Value);
        writing.GetOrAdd(runId, _ => new ConcurrentDictionary<string, LiveWriter>(StringComparer.Ordinal))[taskId ?? ""] = writer;
        return writer;
    }

    /// <summary>The texts being written in this process for the run, as they stand now.</summary>
    public IReadOnlyList<LiveText> Snapshot(string runId) =>
        writing.TryGetValue(runId, out var texts) ? texts.Values.Select(w => w.Text).ToList() : [];

    /// <summary>Whether this process is writing the run's text of <paramref name="taskId"/> (the synthesis's: "") now.</summary>
    public bool IsWriting(string runId, string taskId) =>
        writing.TryGetValue(runId, out var texts) && texts.ContainsKey(taskId);

    internal void Tell(string runId) => Changed?.Invoke(runId);

    internal async Task SaveAsync(string runId, LiveText text)
    {
        try
        {
            await store.WriteAsync(runId, text, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Live text is a view for watchers: the task's output is recorded whatever happens here.
            log.LogWarning(e, "Run {RunId}: the live text of {TaskId} could not be saved", runId, text.TaskId ?? "the synthesis");
        }
    }

    internal void Ended(LiveWriter writer)
    {
        if (writing.TryGetValue(writer.RunId, out var texts))
        {
            texts.TryRemove(new KeyValuePair<string, LiveWriter>(writer.TaskId ?? "", writer));
            if (texts.IsEmpty)
            {
                writing.TryRemove(new KeyValuePair<string, ConcurrentDictionary<string, LiveWriter>>(writer.RunId, texts));
            }
        }

        Tell(writer.RunId);
    }
}

/// <summary>
/// One writing of one task's text: appended as the model writes, saved every flush interval while it changed, and once
/// more, marked done, when it ends. A writing that ends before its first save is never saved: it was shorter than a
/// flush interval, the task's output is recorded as the task completes, and a stream on another instance polls stored
/// texts less often than that. Restarted (a model call retried from the start), it begins a new generation.
/// </summary>
public sealed class LiveWriter : ITextSink, IAsyncDisposable
{
    readonly LiveOutputs owner;
    readonly LiveOutputOptions options;
    readonly StringBuilder text = new();
    readonly CancellationTokenSource ending = new();
    readonly Task saving;
    string generation = NewGeneration();
    bool dirty;
    bool saved;
    int ended;

    internal LiveWriter(LiveOutputs owner, string runId, string? taskId, LiveOutputOptions options)
    {
        this.owner = owner;
        this.options = options;
        RunId = runId;
        TaskId = taskId;
        saving = SaveLoopAsync();
    }

    public string RunId { get; }

    public string? TaskId { get; }

    /// <summary>The text as written so far.</summary>
    public LiveText Text
    {
        get
        {
            lock (text)
            {
                return new LiveText(TaskId, generation, text.ToString(), Volatile.Read(ref ended) == 1);
            }
        }
    }

    public void Append(string delta)
    {
        if (delta.Length == 0)
        {
            return;
        }

        lock (text)
        {
            if (text.Length >= options.MaxChars)
            {
                return;
            }

            text.Append(delta, 0, Math.Min(delta.Length, options.MaxChars - text.Length));
            dirty = true;
        }

        owner.Tell(RunId);
    }

    public void Restart()
    {
        lock (text)
        {
            text.Clear();
            generation = NewGeneration();
            dirty = true;
        }

        owner.Tell(RunId);
    }

    /// <summary>The writing is over: saved once more, marked done, and no longer this process's to show.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref ended, 1) == 1)
        {
            return;
        }

        await ending.CancelAsync();
        await saving;
        if (Volatile.Read(ref saved))
        {
            await owner.SaveAsync(RunId, Text);
        }

        owner.Ended(this);
        ending.Dispose();
    }

    async Task SaveLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.FlushMs));
        try
        {
            while (await timer.WaitForNextTickAsync(ending.Token))
            {
                LiveText? changed = null;
                lock (text)
                {
                    if (dirty)
                    {
                        dirty = false;
                        changed = new LiveText(TaskId, generation, text.ToString(), false);
                    }
                }

                if (changed is not null)
                {
                    Volatile.Write(ref saved, true);
                    await owner.SaveAsync(RunId, changed);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Ended: the last save follows.
        }
    }

    static string NewGeneration() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
}
