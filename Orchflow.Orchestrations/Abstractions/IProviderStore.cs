namespace Orchflow.Abstractions;

/// <summary>A model account registered by a user. Holds a reference to the encrypted key, never the key.</summary>
public sealed record ProviderRecord(
    string AccountId,
    string ProviderId,
    string Provider,
    string Label,
    string Model,
    string? Endpoint,
    string KeyHint,
    string SecretName,
    DateTimeOffset CreatedAt);

/// <summary>The providers each account registered.</summary>
public interface IProviderStore
{
    /// <summary>Adds the provider unless the account already has <paramref name="maxPerAccount"/>; false then, and nothing stored.</summary>
    Task<bool> TryCreateAsync(ProviderRecord provider, int maxPerAccount, CancellationToken cancellationToken);

    Task<ProviderRecord?> GetAsync(string accountId, string providerId, CancellationToken cancellationToken);

    Task<IReadOnlyList<ProviderRecord>> ListAsync(string accountId, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string accountId, string providerId, CancellationToken cancellationToken);
}
