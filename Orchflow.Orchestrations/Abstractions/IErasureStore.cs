namespace Orchflow.Abstractions;

/// <summary>
/// A pending erasure: a whole account (<paramref name="RunId"/> null) or one of its runs, with the number of the run's
/// latest attempt (each attempt has an orchestration whose history goes too). It stays recorded until the erasure is
/// complete, so one cut short is finished by the next pass.
/// </summary>
public sealed record ErasureRequest(string AccountId, string? RunId, DateTimeOffset RequestedAt, int Attempts = 0)
{
    public bool IsAccount => RunId is null;
}

/// <summary>A run as the retention sweep finds it: ended before the cut-off.</summary>
public sealed record EndedRun(string AccountId, string RunId);

/// <summary>
/// What erasing needs of storage beyond the stores that own each kind of record: the pending erasures, and the rows that
/// no other store deletes (a run's partition and listing row, an account's own rows).
/// </summary>
public interface IErasureStore
{
    /// <summary>Records the erasure as pending; one already pending stays as it is.</summary>
    Task RequestAsync(ErasureRequest request, CancellationToken cancellationToken);

    Task<IReadOnlyList<ErasureRequest>> PendingAsync(CancellationToken cancellationToken);

    /// <summary>The erasure is complete: forgets it.</summary>
    Task DoneAsync(ErasureRequest request, CancellationToken cancellationToken);

    /// <summary>Deletes every row of the run (its partition: status, tasks, outputs, events, live texts) and its listing row.</summary>
    Task EraseRunRowsAsync(string accountId, string runId, IReadOnlyList<string> webhookIds, CancellationToken cancellationToken);

    /// <summary>The runs the account's listing holds.</summary>
    Task<IReadOnlyList<string>> RunIdsAsync(string accountId, CancellationToken cancellationToken);

    /// <summary>Runs of any account that ended before <paramref name="cutoff"/>, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<EndedRun>> EndedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes the account's own rows, last of all: its run counts, its keys, its email and the account row.</summary>
    Task EraseAccountRowsAsync(string accountId, CancellationToken cancellationToken);
}
