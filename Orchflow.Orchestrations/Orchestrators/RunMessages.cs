using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Orchestrators;

/// <summary>
/// Starts a run's orchestration. Carries ids and engine limits only: the run itself is in the projection. A retried
/// run is continued by a new orchestration with the next attempt number, which every write it makes carries.
/// </summary>
public sealed record RunInput(string AccountId, string RunId, EngineSettings Engine, int Attempt = 0)
{
    /// <summary>The orchestration instance running this attempt: the run id, then the run id and attempt for retries.</summary>
    public string InstanceId => InstanceOf(RunId, Attempt);

    public static string InstanceOf(string runId, int attempt) => attempt == 0 ? runId : $"{runId}~{attempt}";

    /// <summary>Starts the orchestration that runs this attempt of the run, with the engine limits fixed for it now.</summary>
    public static Task ScheduleAsync(DurableTaskClient durable, RunRecord run, int attempt, EngineOptions engine)
    {
        var d = run.Definition;
        var settings = new EngineSettings(engine.MaxParallelTasks, engine.MaxReviewRounds, d.RequireApproval, d.HumanTimeoutSeconds, d.RequirePlanApproval);
        var input = new RunInput(run.AccountId, run.RunId, settings, attempt);
        return durable.ScheduleNewOrchestrationInstanceAsync(nameof(RunOrchestrator), input, new StartOrchestrationOptions(input.InstanceId),
            CancellationToken.None);
    }
}

/// <summary>Engine limits fixed for a run when it starts, so a replay never sees them change.</summary>
public sealed record EngineSettings(int MaxParallelTasks, int MaxReviewRounds, bool RequireApproval, int? HumanTimeoutSeconds, bool RequirePlanApproval = false);

public sealed record RunOutcome(RunStatus Status, string? Error = null);

/// <summary>Asks for a run's plan: for which attempt, and for which review round with the feedback that sent the last one back.</summary>
public sealed record PlanInput(string AccountId, string RunId, int Attempt = 0, int Round = 0, string? Feedback = null);

/// <summary>
/// The shape of a plan that the orchestrator schedules: ids, kinds, edges and, for a run taken up again, where each
/// task stands; texts stay in the projection. <paramref name="NeedsReview"/>: a person reviews it before anything runs.
/// <paramref name="Version"/>: the run's version with the plan saved (<see cref="RunVersions"/>).
/// </summary>
public sealed record PlanOutline(IReadOnlyList<TaskNode> Tasks, TokenUsage Usage, bool NeedsReview = false, int ReviewRound = 0, long Version = 0);

/// <summary>One task as the orchestrator schedules it; <paramref name="Round"/> names the event its next human answer comes on.</summary>
public sealed record TaskNode(string TaskId, TaskKind Kind, IReadOnlyList<string> DependsOn, TaskState State = TaskState.Pending, int Round = 0);

/// <summary>
/// One agent task to run. <paramref name="RecordStart"/>: no batch recorded this task's start (it starts with other
/// agents alone), so the activity records it, while its model call is under way or with its result.
/// <paramref name="Reached"/>: the run's version as far as the orchestration knows it (<see cref="RunVersions"/>).
/// </summary>
public sealed record AgentTaskInput(
    string AccountId, string RunId, string TaskId, bool AwaitApproval, int Attempt = 0, bool RecordStart = true, long Reached = 0);

/// <summary>
/// What an agent task's activity did: <paramref name="Recorded"/> when the task's result stands in the run (done, or its
/// draft waiting), whichever execution of the activity wrote it; false when the run ended or moved to another attempt.
/// <paramref name="OutputLength"/>: how long an output this execution wrote (0 when it wrote none), so a history shows it.
/// <paramref name="WaitingCall"/>: the tool call the task waits on a person for; its loop goes on once they answer.
/// <paramref name="PausedOnBudget"/>: the run's budget was spent before a call: the task starts again once a person
/// raises it, announced in that budget round's event.
/// <paramref name="Version"/>: the run's version this result was written or read at (<see cref="RunVersions"/>).
/// </summary>
public sealed record AgentTaskResult(bool Recorded, int OutputLength = 0, string? WaitingCall = null, int? PausedOnBudget = null, long Version = 0);

/// <summary>What the synthesis came to: the run completed, or not (ended first), or paused on the run's spent budget.</summary>
public sealed record SynthesisResult(bool Completed, int? PausedOnBudget = null);

public sealed record SynthesisInput(string AccountId, string RunId, int Attempt = 0);

/// <summary>
/// A change the orchestrator has recorded: a batch of tasks started, or the run's end. It names the change;
/// <see cref="RunTransitions"/> decides what it does to the run as stored (<see cref="Decide"/>).
/// </summary>
public sealed record RunChangeRequest(
    string AccountId, string RunId, int Attempt, RunChangeKind Kind,
    IReadOnlyList<string>? Humans = null, IReadOnlyList<string>? Agents = null, string? Error = null, string? TaskId = null, int Seconds = 0)
{
    public Decision Decide(RunState run, DateTimeOffset now) => Kind switch
    {
        RunChangeKind.StartTasks => RunTransitions.StartTasks(run, Attempt, Humans ?? [], Agents ?? [], now),
        RunChangeKind.Fail => RunTransitions.Fail(run, Attempt, Error!, TaskId, now),
        RunChangeKind.TimeOut => RunTransitions.TimeOut(run, Attempt, TaskId!, Seconds, now),
        RunChangeKind.Cancel => RunTransitions.Cancel(run, now, Attempt),
        _ => throw new ArgumentOutOfRangeException(nameof(run), Kind, "Unknown change."),
    };
}

public enum RunChangeKind
{
    StartTasks,
    Fail,
    TimeOut,
    Cancel,
}

/// <summary>
/// A person's verdict on the plan, raised once it is recorded: the edited plan's shape, or the feedback to plan again with;
/// <paramref name="Version"/>: the run's version with the verdict recorded (<see cref="RunVersions"/>).
/// </summary>
public sealed record PlanReviewReply(bool Approved, PlanOutline? Edited = null, string? Feedback = null, long Version = 0);

/// <summary>
/// The payload of a human task's event. The answer itself is already in the projection, at <paramref name="Version"/>
/// (<see cref="RunVersions"/>).
/// </summary>
public sealed record HumanReply(HumanDecision Decision, long Version = 0);

public enum HumanDecision
{
    /// <summary>Context supplied, or a draft approved (as is or edited).</summary>
    Accepted,

    /// <summary>A draft sent back with feedback: the agent redoes the task.</summary>
    Rejected,
}

public sealed record CancelRequest(string Reason);

/// <summary>External event names. Each human wait has its own, so no answer can be taken for another wait.</summary>
public static class RunEvents
{
    public const string Cancel = "cancel";

    public static string Human(string taskId, int round) => $"human:{taskId}:{round}";

    public static string PlanReview(int round) => $"plan:{round}";

    /// <summary>A person raised a run's budget that it waited on, in round <paramref name="round"/>.</summary>
    public static string Budget(int round) => $"budget:{round}";

    /// <summary>A person's answer to a tool call a task waits on.</summary>
    public static string ToolApproval(string taskId, string callId) => $"tool:{taskId}:{callId}";
}

/// <summary>
/// How far an orchestration knows its run's projection got. Each version it awaits (a saved plan, an activity's result,
/// a person's reply recorded before its event was raised) names a point every change it depends on had reached; the
/// highest is passed to the agent tasks it starts, which then read the run without asking storage when this process
/// holds a copy at least that new (<see cref="IRunStore.GetReachedAsync"/>). The synthesis, run once, asks storage: a
/// retry of it must see a run its first execution completed. 0 is unknown, and stays so once anything
/// awaited came without a version (an orchestration begun by an older Orchflow, replayed): those activities ask storage.
/// </summary>
public static class RunVersions
{
    public static long Reached(long known, long learned) => known == 0 || learned == 0 ? 0 : Math.Max(known, learned);
}
