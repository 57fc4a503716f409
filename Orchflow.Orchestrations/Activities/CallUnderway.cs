using System.Text;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;

namespace Orchflow.Activities;

/// <summary>
/// A call made before the change that announces it is recorded (a model's: a task's start, a run's planning; a tool's:
/// its step's asks), so recording that change no longer waits in front of the call. A call that answers within
/// <see cref="Grace"/> has its start recorded with its result, in one batch (<see cref="WithStart"/>); a longer one has
/// its start recorded then (<see cref="RecordStartAsync"/>), while it goes on. What the call writes is held until its
/// start is recorded (<see cref="Show"/>): no watcher sees output before the start. A start refused or not written stops
/// the call, and a call that fails before its start is recorded has its start recorded first (<see cref="AnswerAsync"/>),
/// so a failure always follows the start it ends.
/// </summary>
sealed class CallUnderway<T>
{
    /// <summary>How long a call runs before its start is recorded on its own; a call answered sooner saves that batch.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(10);

    readonly HeldText held = new();
    readonly CancellationTokenSource stop = new();
    readonly IRunStore runs;
    readonly string accountId;
    readonly string runId;
    readonly RunDecider? start;
    readonly TimeProvider clock;
    readonly ILogger log;

    /// <summary>
    /// Begins the call, handing it where to write and what stops it (the provider's lookup is part of the call: its
    /// failure is the call's). <paramref name="start"/> decides the change announcing it; null when that is recorded
    /// already.
    /// </summary>
    public CallUnderway(
        IRunStore runs, string accountId, string runId, RunDecider? start, Func<ITextSink, CancellationToken, Task<T>> begin, TimeProvider clock,
        ILogger log)
    {
        (this.runs, this.accountId, this.runId, this.start, this.clock, this.log) = (runs, accountId, runId, start, clock, log);
        StartRecorded = start is null;
        Reply = begin(held, stop.Token);
    }

    /// <summary>The call's answer; it throws as the call did.</summary>
    Task<T> Reply { get; }

    /// <summary>Whether the start is recorded: before the call, or on its own while the call went on.</summary>
    public bool StartRecorded { get; private set; }

    /// <summary>
    /// Whether the start is to be recorded on its own now (<see cref="RecordStartAsync"/>): it is not recorded yet, and the
    /// call did not answer within <see cref="Grace"/>.
    /// </summary>
    public async Task<bool> StartDueAsync() =>
        !StartRecorded && !Reply.IsCompleted && await Task.WhenAny(Reply, Task.Delay(Grace, clock)) != Reply;

    /// <summary>The change recording the call's result: the start first, in the same batch, when it is not recorded yet.</summary>
    public RunDecider WithStart(RunDecider result) => StartRecorded ? result : start!.Then(result);

    /// <summary>
    /// Records the call's start while the call goes on. A start refused (the run ended meanwhile), or one that cannot be
    /// written, stops the call (<see cref="AbandonAsync"/>).
    /// </summary>
    public async Task<RunChange?> RecordStartAsync()
    {
        RunChange? started;
        try
        {
            started = await RecordStart();
        }
        catch
        {
            await AbandonAsync();
            throw;
        }

        StartRecorded = started is { Refusal: null };
        if (!StartRecorded)
        {
            await AbandonAsync();
        }

        return started;
    }

    /// <summary>The call's answer. A call that failed before its start was recorded has it recorded first, then throws as it did.</summary>
    public async Task<T> AnswerAsync()
    {
        try
        {
            return await Reply;
        }
        catch when (!StartRecorded)
        {
            try
            {
                await RecordStart();
            }
            catch (Exception e)
            {
                // The call's own failure is what the engine is told.
                log.LogWarning(e, "The start of a call that failed could not be recorded");
            }

            throw;
        }
    }

    Task<RunChange?> RecordStart() => runs.ChangeAsync(accountId, runId, start!, CancellationToken.None);

    /// <summary>The start is recorded: what the call wrote so far, and all it writes next, goes to <paramref name="writer"/>.</summary>
    public void Show(ITextSink writer) => held.PassTo(writer);

    /// <summary>How long a call told to stop is waited for; one that goes on regardless is left to end on its own.</summary>
    public static readonly TimeSpan StopWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The call is not needed (its start refused or not written, or its task taken further elsewhere): it is stopped and
    /// whatever it answers is dropped, so a retry of the activity never pays for two calls at once. A call that does not
    /// stop within <see cref="StopWait"/> does not hold the activity up any longer.
    /// </summary>
    public async Task AbandonAsync()
    {
        await stop.CancelAsync();
        try
        {
            await Reply.WaitAsync(StopWait, clock);
        }
        catch (TimeoutException) when (!Reply.IsCompleted)
        {
            // Its fault, should it end in one, is observed here: nothing of this call is recorded either way.
            _ = Reply.Observed();
            log.LogWarning("A call told to stop had not ended {Seconds} s later; it is left to end on its own", StopWait.TotalSeconds);
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
