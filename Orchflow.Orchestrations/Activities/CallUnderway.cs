using System.Text;
using Orchflow.Abstractions;

namespace Orchflow.Activities;

/// <summary>
/// A model call made before the change that announces it (a task's start, a run's planning) is recorded, so recording
/// that change no longer waits in front of the call. A call that answers within <see cref="Grace"/> has its start
/// recorded with its result, in one batch; a longer one has its start recorded then, while it goes on. What the call
/// writes is held until its start is recorded (<see cref="Show"/>): no watcher sees output before the start.
/// </summary>
sealed class CallUnderway<T>
{
    /// <summary>How long a call runs before its start is recorded on its own; a call answered sooner saves that batch.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(10);

    readonly HeldText held = new();
    readonly CancellationTokenSource stop = new();
    readonly TimeProvider clock;

    /// <summary>Begins the call, handing it where to write and what stops it.</summary>
    public CallUnderway(Func<ITextSink, CancellationToken, Task<T>> begin, TimeProvider clock)
    {
        this.clock = clock;
        Reply = begin(held, stop.Token);
    }

    /// <summary>The call's answer; it throws as the call did.</summary>
    public Task<T> Reply { get; }

    /// <summary>Whether the call answered within <see cref="Grace"/>: its start then goes in the batch with its result.</summary>
    public async Task<bool> AnsweredWithinGraceAsync() =>
        Reply.IsCompleted || await Task.WhenAny(Reply, Task.Delay(Grace, clock)) == Reply;

    /// <summary>
    /// Records the call's start (<paramref name="record"/>) while the call goes on. A start refused, or one that cannot be
    /// written, stops the call (<see cref="AbandonAsync"/>).
    /// </summary>
    public async Task<RunChange?> RecordStartAsync(Func<Task<RunChange?>> record)
    {
        RunChange? started;
        try
        {
            started = await record();
        }
        catch
        {
            await AbandonAsync();
            throw;
        }

        if (started is not { Refusal: null })
        {
            await AbandonAsync();
        }

        return started;
    }

    /// <summary>The start is recorded: what the call wrote so far, and all it writes next, goes to <paramref name="writer"/>.</summary>
    public void Show(ITextSink writer) => held.PassTo(writer);

    /// <summary>
    /// The start was refused (the run ended meanwhile) or could not be written: the call is stopped and whatever it
    /// answers is dropped, so a retry of the activity never pays for two calls at once.
    /// </summary>
    public async Task AbandonAsync()
    {
        await stop.CancelAsync();
        try
        {
            await Reply;
        }
        catch (Exception e) when (e is OperationCanceledException || Reply.IsFaulted)
        {
            // Nothing of this call is recorded, its failure included: the run it was for has moved on without it.
        }
    }

    /// <summary>Text kept until there is somewhere to show it, then passed on as it comes.</summary>
    sealed class HeldText : ITextSink
    {
        readonly Lock gate = new();
        readonly StringBuilder text = new();
        ITextSink? target;

        public void Append(string delta)
        {
            lock (gate)
            {
                if (target is null)
                {
                    text.Append(delta);
                }
                else
                {
                    target.Append(delta);
                }
            }
        }

        public void Restart()
        {
            lock (gate)
            {
                if (target is null)
                {
                    text.Clear();
                }
                else
                {
                    target.Restart();
                }
            }
        }

        public void PassTo(ITextSink sink)
        {
            lock (gate)
            {
                if (text.Length > 0)
                {
                    sink.Append(text.ToString());
                    text.Clear();
                }

                target = sink;
            }
        }
    }
}
