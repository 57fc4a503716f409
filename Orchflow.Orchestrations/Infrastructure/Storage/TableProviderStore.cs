using Azure.Data.Tables;
using Orchflow.Abstractions;

namespace Orchflow.Infrastructure.Storage;

/// <summary>Registered providers on Table Storage, one partition per account counted by its guard row (<see cref="CountedPartition"/>).</summary>
public sealed class TableProviderStore(OrchflowTables tables) : IProviderStore
{
    public async Task<bool> TryCreateAsync(ProviderRecord provider, int maxPerAccount, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var added = await Counted(provider.AccountId).TryAddAsync(
            new TableEntity(provider.AccountId, provider.ProviderId)
            {
                ["Provider"] = provider.Provider,
                ["Label"] = provider.Label,
                ["Model"] = provider.Model,
                ["Endpoint"] = provider.Endpoint,
                ["KeyHint"] = provider.KeyHint,
                ["SecretName"] = provider.SecretName,
                ["CreatedAt"] = provider.CreatedAt,
            },
            maxPerAccount,
            cancellationToken);
        return added.Added;
    }

    public async Task<ProviderRecord?> GetAsync(string accountId, string providerId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        if (!CountedPartition.IsItemKey(providerId))
        {
            return null;
        }

        var row = await tables.Providers.GetEntityIfExistsAsync<TableEntity>(accountId, providerId, cancellationToken: cancellationToken);
        return row.HasValue && row.Value is not null ? ToProvider(row.Value) : null;
    }

    public async Task<IReadOnlyList<ProviderRecord>> ListAsync(string accountId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var providers = (await Counted(accountId).ItemsAsync(cancellationToken)).Select(ToProvider);
        return providers.OrderBy(p => p.CreatedAt).ToList();
    }

    public async Task<bool> DeleteAsync(string accountId, string providerId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        return await Counted(accountId).DeleteAsync(providerId, null, cancellationToken);
    }

    /// <summary>The account's providers, counted so that concurrent registrations never pass the cap together.</summary>
    CountedPartition Counted(string accountId) => new(tables.Providers, accountId);

    static ProviderRecord ToProvider(TableEntity e) => new(
        e.PartitionKey,
        e.RowKey,
        e.GetString("Provider") ?? "",
        e.GetString("Label") ?? "",
        e.GetString("Model") ?? "",
        e.GetString("Endpoint"),
        e.GetString("KeyHint") ?? "",
        e.GetString("SecretName") ?? "",
        e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue);
}
