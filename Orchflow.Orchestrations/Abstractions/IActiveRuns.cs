namespace Orchflow.Abstractions;

/// <summary>What a start or a retry got from its account's active-run places, and how many runs held them.</summary>
public sealed record ActiveRunPlace(PlaceOutcome Outcome, int Active)
{
    public bool Taken => Outcome == PlaceOutcome.Taken;
}

public enum PlaceOutcome
{
    /// <summary>The attempt has its place now.</summary>
    Taken,

    /// <summary>The account's runs hold as many places as it may have: none was taken.</summary>
    Full,

    /// <summary>
    /// Another start or retry of this very attempt holds its place (under way, or the run is going at it): of
    /// retries at once, one goes on and the others are refused before anything is charged.
    /// </summary>
    HeldByAnother,
}

/// <summary>
/// The places of an account's active runs: one per attempt of a run, taken when it starts (or is retried) and given back
/// when it completes, fails or is cancelled, so no more than the limit of an account's runs go at once, however many
/// starts arrive together.
/// </summary>
public interface IActiveRuns
{
    /// <summary>
    /// Takes a place for the run's attempt, unless the account's runs hold <paramref name="max"/> or another retry holds
    /// the attempt's place. Places of runs that ended without giving theirs back are given back at the limit, by a look
    /// made at most every few seconds an account; a place left by a retry that gave up is taken over once it is stale.
    /// </summary>
    Task<ActiveRunPlace> TryTakeAsync(string accountId, string runId, int attempt, int max, CancellationToken cancellationToken);

    /// <summary>Gives back the place of a start or retry that was refused after taking it, unless the run is going at that attempt.</summary>
    Task ReleaseUnlessActiveAsync(string accountId, string runId, int attempt, CancellationToken cancellationToken);
}
