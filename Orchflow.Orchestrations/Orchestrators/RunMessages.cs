using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Orchestrators;

/// <summary>Starts a run's orchestration. Carries ids and engine limits only: the run itself is in the projection.</summary>
public sealed record RunInput(string AccountId, string RunId, EngineSettings Engine);

/// <summary>Engine limits fixed for a run when it starts, so a replay never sees them change.</summary>
public sealed record EngineSettings(int MaxParallelTasks, int MaxReviewRounds, bool RequireApproval, int? HumanTimeoutSeconds);

public sealed record RunOutcome(RunStatus Status, string? Error = null);

/// <summary>Identifies a run for the activities that read and write its projection.</summary>
public sealed record RunRef(string AccountId, string RunId);

/// <summary>The shape of a plan that the orchestrator schedules: ids, kinds and edges; texts stay in the projection.</summary>
public sealed record PlanOutline(IReadOnlyList<TaskNode> Tasks, TokenUsage Usage);

public sealed record TaskNode(string TaskId, TaskKind Kind, IReadOnlyList<string> DependsOn);

public sealed record AgentTaskInput(string AccountId, string RunId, string TaskId, bool AwaitApproval);

public sealed record AgentTaskResult(TokenUsage Usage, int OutputLength);

public sealed record SynthesisInput(string AccountId, string RunId, TokenUsage UsageSoFar);

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
}

/// <summary>Errors a run reports; stated once so the orchestrator and tests agree on them.</summary>
public static class RunErrors
{
    public static string TaskFailed(string taskId, string cause) => $"Task {taskId} failed: {cause}";

    public static string HumanTimedOut(string taskId, int seconds) =>
        $"Task {taskId} was not answered within {seconds} seconds (human_timeout_seconds); the run stopped.";

    public static string TooManyReviews(string taskId, int maxRounds) =>
        $"Task {taskId} was sent back more than {maxRounds} times (Orchflow:Engine:MaxReviewRounds); the run stopped.";

    public static string ProjectionFailed(string cause) =>
        $"The run's progress could not be recorded ({cause}); the run stopped.";

    public static string Stuck(IEnumerable<string> taskIds) =>
        $"Tasks {string.Join(", ", taskIds)} can never start: the plan has unmet dependencies.";
}
