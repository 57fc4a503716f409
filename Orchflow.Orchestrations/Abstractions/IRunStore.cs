using Orchflow.Domain;

namespace Orchflow.Abstractions;

/// <summary>
/// The read model of runs and their tasks: everything GET /runs serves, written as runs move. Every write that changes
/// a task's state or the run's status logs the events announcing it, in the same transaction.
/// </summary>
public interface IRunStore
{
    Task CreateAsync(RunRecord run, CancellationToken cancellationToken);

    /// <summary>The run with its tasks and their outputs, or null when the account has no such run.</summary>
    Task<RunRecord?> GetAsync(string accountId, string runId, CancellationToken cancellationToken);

    /// <summary>The account's runs, newest first, without their tasks.</summary>
    Task<RunPage> ListAsync(string accountId, int limit, int offset, CancellationToken cancellationToken);

    Task<TaskRecord?> GetTaskAsync(string runId, string taskId, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the planned tasks (pending) with the planner's notes and logs run.planned; the run stays planning until its
    /// first tasks start. False when the run ended meanwhile.
    /// </summary>
    Task<bool> SavePlanAsync(
        string accountId, string runId, RunPlan plan, TokenUsage usage, IReadOnlyList<RunEvent> notes, CancellationToken cancellationToken);

    /// <summary>
    /// Applies a transition of the run and some of its tasks. A run already in a terminal state is left as it is
    /// (a cancel may have landed first); returns false then.
    /// </summary>
    Task<bool> ApplyAsync(RunTransition transition, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces a task as read earlier (its ETag); false when the task changed in between, so exactly one writer wins.
    /// </summary>
    Task<bool> TryReplaceTaskAsync(string runId, TaskRecord task, CancellationToken cancellationToken);

    /// <summary>Stores the run's final output and completes it, unless it already ended.</summary>
    Task<bool> CompleteAsync(string accountId, string runId, string finalOutput, TokenUsage usage, CancellationToken cancellationToken);

    /// <summary>Marks the run and every unfinished task cancelled. Returns the run as it is afterwards.</summary>
    Task<CancelOutcome> CancelAsync(string accountId, string runId, CancellationToken cancellationToken);
}

/// <summary>A change of a run's status and of some of its tasks' states, applied together.</summary>
public sealed record RunTransition(
    string AccountId,
    string RunId,
    RunStatus Status,
    IReadOnlyList<TaskTransition> Tasks,
    TokenUsage? Usage = null,
    string? Error = null);

public sealed record TaskTransition(string TaskId, TaskState State, string? Error = null);

public sealed record RunPage(IReadOnlyList<RunRecord> Runs, int Total);

public enum CancelResult
{
    NotFound,
    Cancelled,
    AlreadyCancelled,
    AlreadyFinished,
}

public sealed record CancelOutcome(CancelResult Result, RunRecord? Run);
