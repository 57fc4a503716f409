using Orchflow.Domain;

namespace Orchflow.Abstractions;

/// <summary>The runs' event logs, as <see cref="IRunStore"/> writes them: read in order, after a sequence.</summary>
public interface IRunEventStore
{
    /// <summary>The account's run's events after <paramref name="after"/>, at most <paramref name="limit"/>; null when it has no such run.</summary>
    Task<RunEventPage?> ListAsync(string accountId, string runId, long after, int limit, CancellationToken cancellationToken);

    /// <summary>Events of a run whose owner the caller has already checked (a stream reading on behalf of its subscribers).</summary>
    Task<IReadOnlyList<RunLogEntry>> ReadAsync(string runId, long after, int limit, CancellationToken cancellationToken);

    /// <summary>Whether the run's log holds its event numbered <paramref name="sequence"/>, by one point read: what a stream polls.</summary>
    Task<bool> LoggedAsync(string runId, long sequence, CancellationToken cancellationToken);

    /// <summary>Where the account's run stands, by one point read: what a conditional read compares; null when it has no such run.</summary>
    Task<RunMark?> MarkAsync(string accountId, string runId, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="MarkAsync"/>, from memory when this process wrote or read the run within
    /// <c>Orchflow:Storage:ReadFreshnessMs</c>: what a poller's conditional read compares.
    /// </summary>
    Task<RunMark?> RecentMarkAsync(string accountId, string runId, CancellationToken cancellationToken);
}

/// <summary>A page of a run's log, and the run's last sequence when it was read.</summary>
public sealed record RunEventPage(IReadOnlyList<RunLogEntry> Events, RunMark Mark);

/// <summary>A run's version (moved by every write), last event sequence and status.</summary>
public sealed record RunMark(long Version, long Sequence, RunStatus Status);

/// <summary>Told of events as this process logs them, so whoever waits on a run here (a live stream) hears at once.</summary>
public interface IRunLogObserver
{
    void Logged(string accountId, string runId, IReadOnlyList<RunLogEntry> entries);
}
