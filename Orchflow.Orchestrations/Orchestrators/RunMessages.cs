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
        var settings = new EngineSettings(engine.MaxParallelTasks, engine.MaxReviewRounds, d.RequireApproval, d.HumanTimeoutSeconds, d.RequirePlanApproval,
            AgentsRecordTheirStart: true);
        var input = new RunInput(run.AccountId, run.RunId, settings, attempt);
        return durable.ScheduleNewOrchestrationInstanceAsync(nameof(RunOrchestrator), input, new StartOrchestrationOptions(input.InstanceId),
            CancellationToken.None);
    }
}

/// <summary>
/// Engine limits fixed for a run when it starts, so a replay never sees them change.
/// <paramref name="AgentsRecordTheirStart"/>: a batch of agent tasks alone is recorded running by each task's own
/// activity, not by a transition activity scheduled before them. Orchestrations started before there was this choice
/// have it off, so their replays schedule what their histories hold.
/// </summary>
public sealed record EngineSettings(
    int MaxParallelTasks, int MaxReviewRounds, bool RequireApproval, int? HumanTimeoutSeconds, bool RequirePlanApproval = false,
    bool AgentsRecordTheirStart = false);

public sealed record RunOutcome(RunStatus Status, string? Error = null);

/// <summary>Asks for a run's plan: for which attempt, and for which review round with the feedback that sent the last one back.</summary>
public sealed record PlanInput(string AccountId, string RunId, int Attempt = 0, int Round = 0, string? Feedback = null);

/// <summary>
/// The shape of a plan that the orchestrator schedules: ids, kinds, edges and, for a run taken up again, where each
/// task stands; texts stay in the projection. <paramref name="NeedsReview"/>: a person reviews it before anything runs.
/// </summary>
public sealed record PlanOutline(IReadOnlyList<TaskNode> Tasks, TokenUsage Usage, bool NeedsReview = false, int ReviewRound = 0);

/// <summary>One task as the orchestrator schedules it; <paramref name="Round"/> names the event its next human answer comes on.</summary>
public sealed record TaskNode(string TaskId, TaskKind Kind, IReadOnlyList<string> DependsOn, TaskState State = TaskState.Pending, int Round = 0);

/// <summary>
/// One agent task to run. <paramref name="RecordStart"/>, when set, is the run's usage so far: no transition has
/// recorded this task's start, so the activity first records the task and the run running, with that usage.
/// </summary>
public sealed record AgentTaskInput(string AccountId, string RunId, string TaskId, bool AwaitApproval, int Attempt = 0, TokenUsage? RecordStart = null);

public sealed record AgentTaskResult(TokenUsage Usage, int OutputLength);

public sealed record SynthesisInput(string AccountId, string RunId, TokenUsage UsageSoFar, int Attempt = 0);

/// <summary>A person's verdict on the plan, raised once it is recorded: the edited plan's shape, or the feedback to plan again with.</summary>
public sealed record PlanReviewReply(bool Approved, PlanOutline? Edited = null, string? Feedback = null);

/// <summary>The payload of a human task's event. The answer itself is already in the projection.</summary>
public sealed record HumanReply(HumanDecision Decision);

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
}

/// <summary>Errors a run reports; stated once so the orchestrator and tests agree on them.</summary>
public static class RunErrors
{
    public static string TaskFailed(string taskId, string cause) => $"Task {taskId} failed: {cause}";

    public static string HumanTimedOut(string taskId, int seconds) =>
        $"Task {taskId} was not answered within {seconds} seconds (human_timeout_seconds); the run stopped.";

    public static string TooManyReviews(string taskId, int maxRounds) =>
        $"Task {taskId} was sent back more than {maxRounds} times (Orchflow:Engine:MaxReviewRounds); the run stopped.";

    public static string PlanNotReviewed(int seconds) =>
        $"The plan was not reviewed within {seconds} seconds (human_timeout_seconds); the run stopped.";

    public static string TooManyPlanReviews(int maxRounds) =>
        $"The plan was sent back more than {maxRounds} times (Orchflow:Engine:MaxReviewRounds); the run stopped.";

    public static string ProjectionFailed(string cause) =>
        $"The run's progress could not be recorded ({cause}); the run stopped.";

    public static string Stuck(IEnumerable<string> taskIds) =>
        $"Tasks {string.Join(", ", taskIds)} can never start: the plan has unmet dependencies.";
}
