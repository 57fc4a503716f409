namespace Orchflow.Abstractions;

/// <summary>What a start or a retry got from its account's active-run places: one, or none and how many runs hold them.</summary>
public sealed record ActiveRunPlace(bool Taken, int Active);

/// <summary>
/// The places of an account's active runs: one per attempt of a run, taken when it starts (or is retried) and given back
/// when it completes, fails or is cancelled, so no more than the limit of an account's runs go at once, however many
/// starts arrive together.
/// </summary>
public interface IActiveRuns
{
    /// <summary>
    /// Takes a place for the run's attempt, unless the account's runs hold <paramref name="max"/> (those of runs that
    /// ended without giving theirs back are given back first). A place the attempt holds already counts as taken.
    /// </summary>
    Task<ActiveRunPlace> TryTakeAsync(string accountId, string runId, int attempt, int max, CancellationToken cancellationToken);

    /// <summary>Gives back the place of a start or retry that was refused after taking it, unless the run is going at that attempt.</summary>
    Task ReleaseUnlessActiveAsync(string accountId, string runId, int attempt, CancellationToken cancellationToken);
}
