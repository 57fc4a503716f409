using Orchflow.Domain;

namespace Orchflow.Abstractions;

/// <summary>
/// Hears of run events outside this process, without a gap: told before the batch that logs them is submitted
/// (it writes a notice that stays hidden for a while) and again once the batch landed (the notice shows at once).
/// A crash in between loses nothing, since the hidden notice still shows later; a batch that never lands leaves a
/// notice of events that do not exist, which finds nothing. Failures are the outbox's to log, never the run's.
/// </summary>
public interface IRunLogOutbox
{
    /// <summary>Before the batch is submitted; null when nobody outside this process wants these events.</summary>
    Task<RunLogNotice?> PrepareAsync(string accountId, string runId, IReadOnlyList<RunLogEntry> entries, CancellationToken cancellationToken);

    /// <summary>The batch landed: the notice shows now (it may finish in the background: it shows later at worst).</summary>
    Task ConfirmAsync(RunLogNotice notice, CancellationToken cancellationToken);

    /// <summary>The batch failed (another writer went first): the notice can go.</summary>
    Task AbandonAsync(RunLogNotice notice, CancellationToken cancellationToken);
}

/// <summary>A notice an outbox wrote ahead of a commit, as it needs it to confirm or abandon it.</summary>
public sealed record RunLogNotice(string MessageId, string Receipt);
