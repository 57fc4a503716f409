using Orchflow.Domain;

namespace Orchflow.Abstractions;

/// <summary>
/// The runs and their tasks: everything GET /runs serves, and the one place a change of a run is persisted. The store
/// decides nothing: each change is decided by <see cref="RunTransitions"/> (through the caller's
/// <see cref="RunDecider"/>) on the run as stored, and persisted as decided, with the events announcing it, in one
/// transaction guarded against any other writer.
/// </summary>
public interface IRunStore
{
    Task CreateAsync(RunRecord run, CancellationToken cancellationToken);

    /// <summary>The run with its tasks and their outputs as storage holds it now, or null when the account has no such run.</summary>
    Task<RunRecord?> GetAsync(string accountId, string runId, CancellationToken cancellationToken);

    /// <summary>
    /// The run for an activity told that the run had reached version <paramref name="reached"/> when it was started: as
    /// <see cref="GetAsync"/>, but a copy this process holds of that version or a later one is served without asking
    /// storage. It holds every change the activity depends on; a change made elsewhere since may be missing, and any
    /// change the activity makes is decided on the run as stored. 0 (unknown) always asks storage.
    /// </summary>
    Task<RunRecord?> GetReachedAsync(string accountId, string runId, long reached, CancellationToken cancellationToken);

    /// <summary>
    /// The run for a client's read: as <see cref="GetAsync"/>, but a run this process wrote or read within
    /// <c>Orchflow:Storage:ReadFreshnessMs</c> is served without asking storage again, so it can be that far behind a
    /// write made by another instance. Never for deciding a change: those decide on the run as stored.
    /// </summary>
    Task<RunRecord?> GetRecentAsync(string accountId, string runId, CancellationToken cancellationToken);

    /// <summary>Starts a new account's run count at zero, so listing it never has to count its runs.</summary>
    Task StartCountingAsync(string accountId, CancellationToken cancellationToken);

    /// <summary>The account's runs, newest first, without their tasks; the total from the account's count.</summary>
    Task<RunPage> ListAsync(string accountId, int limit, int offset, CancellationToken cancellationToken);

    /// <summary>
    /// Decides a change of the account's run on the run as it stands and persists what was decided; null when the
    /// account has no such run. A concurrent writer makes the change be decided again on the run as that writer left it.
    /// </summary>
    Task<RunChange?> ChangeAsync(string accountId, string runId, RunDecider decide, CancellationToken cancellationToken);
}

/// <summary>Decides a change of a run from the run as it stands, at the time the change is written.</summary>
public delegate Decision RunDecider(RunState run, DateTimeOffset now);

public static class RunDeciders
{
    /// <summary><paramref name="first"/> as the announcement of <paramref name="next"/>: one change, in one batch (<see cref="Decision.Then"/>).</summary>
    public static RunDecider Then(this RunDecider first, RunDecider next) => (run, now) => first(run, now).Then(run, after => next(after, now));
}

/// <summary>
/// A change as it was decided and persisted: the run it was decided on, the decision, and the run afterwards (as it
/// was, when the decision wrote nothing or refused).
/// </summary>
public sealed record RunChange(RunState Before, Decision Decision, RunRecord Run)
{
    public Refusal? Refusal => Decision.Refusal;

    /// <summary>The task as the change left it.</summary>
    public TaskRecord? Task(string taskId) => Run.Tasks.FirstOrDefault(t => t.TaskId == taskId);
}

public sealed record RunPage(IReadOnlyList<RunRecord> Runs, int Total);
