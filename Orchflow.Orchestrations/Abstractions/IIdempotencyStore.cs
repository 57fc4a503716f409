namespace Orchflow.Abstractions;

/// <summary>
/// Requests made with an Idempotency-Key, per account: the first claims the key, and what it answered is kept for a
/// day so the same request sent again gets the same answer instead of doing the work twice.
/// </summary>
public interface IIdempotencyStore
{
    /// <summary>Claims the key for a request with this fingerprint, or says what already holds it.</summary>
    Task<IdempotencyClaim> ClaimAsync(string accountId, string key, string fingerprint, CancellationToken cancellationToken);

    /// <summary>Keeps the answer of the request that claimed the key, for the day the key lives.</summary>
    Task CompleteAsync(IdempotencyClaim claim, StoredResponse response, CancellationToken cancellationToken);

    /// <summary>Gives the key up (the request failed on Orchflow's side): the next request with it is done afresh.</summary>
    Task ReleaseAsync(IdempotencyClaim claim, CancellationToken cancellationToken);

    /// <summary>
    /// Forgets the account's kept answers that name <paramref name="mentioning"/> (a webhook, a run), with any secret
    /// they hold: what was deleted is not shown again by a replay.
    /// </summary>
    Task ForgetAsync(string accountId, string mentioning, CancellationToken cancellationToken);

    /// <summary>Forgets every kept answer of the account, with their secrets.</summary>
    Task ForgetAllAsync(string accountId, CancellationToken cancellationToken);
}

public enum IdempotencyOutcome
{
    /// <summary>The key is this request's: do it, then complete or release the claim.</summary>
    Claimed,

    /// <summary>The same request was answered before: replay <see cref="IdempotencyClaim.Response"/>.</summary>
    Replay,

    /// <summary>The key was used for a different request.</summary>
    Mismatch,

    /// <summary>The first request with this key is still being handled.</summary>
    InProgress,
}

public sealed record IdempotencyClaim(IdempotencyOutcome Outcome, string AccountId, string KeyHash, string? ETag, StoredResponse? Response = null);

/// <summary>An answer as it was sent: status, content type, body and the headers worth repeating.</summary>
public sealed record StoredResponse(int Status, string? ContentType, string? Body, IReadOnlyDictionary<string, string> Headers, bool HoldsSecret);
