namespace Orchflow.Abstractions;

/// <summary>One of an account's API keys as it is listed: never the key, only the last characters it ends with.</summary>
public sealed record ApiKeyRecord(string AccountId, string KeyId, string Label, string KeyHint, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt = null);

/// <summary>Who an API key belongs to: the account and which of its keys it is.</summary>
public sealed record KeyHolder(Account Account, string KeyId);

public enum RevocationOutcome
{
    Revoked,
    NotFound,

    /// <summary>The account's only key: revoking it would lock the account out.</summary>
    LastKey,
}

/// <summary>What a revocation did, with the keyed hash of the key revoked (so this process forgets it at once).</summary>
public sealed record KeyRevocation(RevocationOutcome Outcome, string? KeyHash = null);

/// <summary>
/// An account's API keys: each stored as its keyed hash only, found by one point read of that hash, listed by account,
/// and revoked so that no account is ever left without a key.
/// </summary>
public interface IApiKeyStore
{
    /// <summary>The account and key an API key hash belongs to, or null for an unknown or revoked key, or an erased account.</summary>
    Task<KeyHolder?> FindAsync(string apiKeyHash, CancellationToken cancellationToken);

    /// <summary>Adds a key to the account; false when the account already has <paramref name="maxPerAccount"/> keys.</summary>
    Task<bool> TryCreateAsync(ApiKeyRecord key, string apiKeyHash, int maxPerAccount, CancellationToken cancellationToken);

    /// <summary>The account's keys, oldest first.</summary>
    Task<IReadOnlyList<ApiKeyRecord>> ListAsync(string accountId, CancellationToken cancellationToken);

    /// <summary>Revokes the key unless it is the account's last; a revocation cut short is finished by doing it again.</summary>
    Task<KeyRevocation> RevokeAsync(string accountId, string keyId, CancellationToken cancellationToken);

    /// <summary>Revokes every key of the account (it is being erased): none works after this; returns their hashes.</summary>
    Task<IReadOnlyList<string>> RevokeAllAsync(string accountId, CancellationToken cancellationToken);

    /// <summary>Records that the key was used at <paramref name="at"/> (callers do it at most once a minute per key).</summary>
    Task TouchAsync(string accountId, string keyId, DateTimeOffset at, CancellationToken cancellationToken);
}
