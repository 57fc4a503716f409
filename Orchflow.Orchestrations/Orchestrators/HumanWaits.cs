using Microsoft.DurableTask;
using Orchflow.Domain;

namespace Orchflow.Orchestrators;

/// <summary>
/// The human tasks a run is waiting on: each on its own event and, when the run bounds human waits, racing its own
/// timer. Every timer is cancelled when its wait ends or the run does, so none keeps an ended orchestration alive.
/// </summary>
sealed class HumanWaits(TaskOrchestrationContext context, int? timeoutSeconds)
{
    /// <summary>
    /// How long after its deadline a human-wait timer is set. The Azure Storage backend delays timer messages in whole
    /// seconds, rounded down, so a timer set for the deadline itself can fire up to a second before it; the human
    /// keeps their full time, and a timeout is reported at most about a second late.
    /// </summary>
    static readonly TimeSpan TimerSlack = TimeSpan.FromSeconds(1);

    readonly List<HumanWait> pending = [];

    public int Count => pending.Count;

    /// <summary>The run waits on a person to raise its spent budget: nothing new starts until they do.</summary>
    public bool WaitsOnBudget => pending.Any(w => w.Kind == HumanWaitKind.Budget);

    /// <summary>What the orchestrator races: each pending reply, then each pending timer.</summary>
    public IEnumerable<Task> Tasks => pending.Select(w => (Task)w.Reply).Concat(pending.Select(w => w.Timeout).OfType<Task>());

    /// <summary>The timer a human wait races, when the run bounds human waits; null when it does not.</summary>
    public static Task? Timer(TaskOrchestrationContext context, int? timeoutSeconds, CancellationToken cancellationToken) =>
        timeoutSeconds is int seconds
            ? context.CreateTimer(context.CurrentUtcDateTime.AddSeconds(seconds) + TimerSlack, cancellationToken)
            : null;

    /// <summary>A task waits for its person's answer, or for their verdict on its draft, in review round <paramref name="round"/>.</summary>
    public void Add(string taskId, int round) => Add(taskId, RunEvents.Human(taskId, round), HumanWaitKind.Answer);

    /// <summary>A task's loop waits for a person to let a tool call be made, or refuse it.</summary>
    public void AddToolApproval(string taskId, string callId) => Add(taskId, RunEvents.ToolApproval(taskId, callId), HumanWaitKind.ToolCall);

    /// <summary>The run waits for a person to raise its spent budget, in budget round <paramref name="round"/>; once, however many tasks it stopped.</summary>
    public void AddBudget(int round)
    {
        if (!WaitsOnBudget)
        {
            Add(RunLog.BudgetWaitingKey, RunEvents.Budget(round), HumanWaitKind.Budget);
        }
    }

    void Add(string taskId, string eventName, HumanWaitKind kind)
    {
        var timerCancel = new CancellationTokenSource();
        var timeout = Timer(context, timeoutSeconds, timerCancel.Token);
        pending.Add(new HumanWait(taskId, context.WaitForExternalEvent<HumanReply>(eventName), timeout, timerCancel, kind));
    }

    /// <summary>The wait that <paramref name="done"/> (its reply or its timer) belongs to, no longer pending; null if none.</summary>
    public HumanWait? Take(Task done)
    {
        var wait = pending.FirstOrDefault(w => w.Reply == done || w.Timeout == done);
        if (wait is not null)
        {
            pending.Remove(wait);
            wait.CancelTimer();
        }

        return wait;
    }

    public void CancelTimers()
    {
        pending.ForEach(w => w.CancelTimer());
        pending.Clear();
    }
}

/// <summary>What a person is waited on for.</summary>
enum HumanWaitKind
{
    /// <summary>A human task's answer, or a verdict on a draft.</summary>
    Answer,

    /// <summary>A verdict on one of a task's tool calls.</summary>
    ToolCall,

    /// <summary>A raise of the run's spent budget.</summary>
    Budget,
}

/// <summary>A pending wait on a person: its reply and, when the run bounds human waits, the timer racing it.</summary>
sealed record HumanWait(string TaskId, Task<HumanReply> Reply, Task? Timeout, CancellationTokenSource TimerCancel, HumanWaitKind Kind)
{
    public void CancelTimer()
    {
        TimerCancel.Cancel();
        TimerCancel.Dispose();
    }
}
