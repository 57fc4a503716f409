namespace Orchflow.Abstractions;

/// <summary>An Orchflow account: who calls the API and how many managed trial runs they have left.</summary>
public sealed record Account(string AccountId, string Name, string Email, int TrialRunsRemaining, DateTimeOffset CreatedAt);

/// <summary>Accounts, their API key hashes and their trial allowance.</summary>
public interface IAccountStore
{
    /// <summary>
    /// Creates the account with its first API key (by the key's hash), all or nothing; false when the email is already
    /// registered.
    /// </summary>
    Task<bool> TryCreateAsync(Account account, ApiKeyRecord firstKey, string apiKeyHash, CancellationToken cancellationToken);

    /// <summary>The account an API key hash belongs to, by point reads of the key and the account; null for an unknown or revoked key.</summary>
    Task<Account?> FindByKeyHashAsync(string apiKeyHash, CancellationToken cancellationToken);

    /// <summary>Takes one trial run, atomically; false when none is left.</summary>
    Task<bool> TryConsumeTrialRunAsync(string accountId, CancellationToken cancellationToken);

    /// <summary>Gives back a trial run taken for a run that could not be started.</summary>
    Task RefundTrialRunAsync(string accountId, CancellationToken cancellationToken);

    /// <summary>Marks the account closed: no key of it is found from then on, even one issued while it was closing.</summary>
    Task CloseAsync(string accountId, CancellationToken cancellationToken);
}
