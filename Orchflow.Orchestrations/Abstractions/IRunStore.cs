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

    /// <summary>
    /// The run for a client's read: as <see cref="GetAsync"/>, but a run this process wrote or read within
    /// <c>Orchflow:Storage:ReadFreshnessMs</c> is served without asking storage again, so it can be that far behind a
    /// write made by another instance. Never for deciding a change: those read storage.
    /// </summary>
    Task<RunRecord?> GetRecentAsync(string accountId, string runId, CancellationToken cancellationToken);

    /// <summary>Starts a new account's run count at zero, so listing it never has to count its runs.</summary>
    Task StartCountingAsync(string accountId, CancellationToken cancellationToken);

    /// <summary>The account's runs, newest first, without their tasks; the total from the account's count.</summary>
    Task<RunPage> ListAsync(string accountId, int limit, int offset, CancellationToken cancellationToken);

    Task<TaskRecord?> GetTaskAsync(string runId, string taskId, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the planned tasks (pending) with the planner's notes, in place of a plan sent back, and logs run.planned;
    /// the run stays planning until its first tasks start, or waits on the plan when it must be reviewed first. False
    /// when the run ended meanwhile or another attempt of it is running.
    /// </summary>
    Task<bool> SavePlanAsync(string accountId, string runId, PlanSave save, CancellationToken cancellationToken);

    /// <summary>A person's verdict on the plan the run waits on; changes nothing unless it waits on that round.</summary>
    Task<PlanReviewOutcome> ReviewPlanAsync(string accountId, string runId, PlanVerdict verdict, CancellationToken cancellationToken);

    /// <summary>Takes a failed or cancelled run up again: unfinished tasks back to pending, the next attempt numbered.</summary>
    Task<RetryOutcome> RetryAsync(string accountId, string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Applies a transition of the run and some of its tasks. A run already in a terminal state is left as it is
    /// (a cancel may have landed first); returns false then.
    /// </summary>
    Task<bool> ApplyAsync(RunTransition transition, CancellationToken cancellationToken);

    /// <summary>
    /// An agent task's own start: the task, if still pending, and the run become running, with the run's usage so far.
    /// A task already under way or past it is left as it is (the activity delivered again). False when the run has
    /// ended or another attempt runs it.
    /// </summary>
    Task<bool> StartTaskAsync(string accountId, string runId, int attempt, string taskId, TokenUsage usage, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces a task as read earlier (its ETag); false when the task changed in between, so exactly one writer wins.
    /// </summary>
    Task<bool> TryReplaceTaskAsync(string runId, TaskRecord task, CancellationToken cancellationToken);

    /// <summary>Stores the run's final output and completes it, unless it already ended or another attempt runs it.</summary>
    Task<bool> CompleteAsync(string accountId, string runId, int attempt, string finalOutput, TokenUsage usage, CancellationToken cancellationToken);

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
    string? Error = null,
    int Attempt = 0);

/// <summary>A plan to save: for which attempt and review round, with its cost and notes, and whether a person reviews it first.</summary>
public sealed record PlanSave(int Attempt, int Round, RunPlan Plan, TokenUsage Usage, IReadOnlyList<RunEvent> Notes, bool AwaitReview);

/// <summary>A person's verdict on a plan: approved (with their edit, if any) or sent back with feedback.</summary>
public sealed record PlanVerdict(int Round, bool Approved, IReadOnlyList<PlannedTask>? Plan, string? Feedback);

public enum PlanReviewResult
{
    NotFound,
    NotWaiting,
    Reviewed,
}

public sealed record PlanReviewOutcome(PlanReviewResult Result, RunRecord? Run);

public enum RetryResult
{
    NotFound,
    NotRetryable,
    Retried,
}

public sealed record RetryOutcome(RetryResult Result, RunRecord? Run);

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
