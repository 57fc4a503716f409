using Azure.Data.Tables;
using Orchflow.Abstractions;

namespace Orchflow.Infrastructure.Storage;

/// <summary>Registered providers on Table Storage, one partition per account.</summary>
public sealed class TableProviderStore(OrchflowTables tables) : IProviderStore
{
    public async Task CreateAsync(ProviderRecord provider, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        await tables.Providers.AddEntityAsync(
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
            cancellationToken);
    }

    public async Task<ProviderRecord?> GetAsync(string accountId, string providerId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var row = await tables.Providers.GetEntityIfExistsAsync<TableEntity>(accountId, providerId, cancellationToken: cancellationToken);
        return row.HasValue && row.Value is not null ? ToProvider(row.Value) : null;
    }

    public async Task<IReadOnlyList<ProviderRecord>> ListAsync(string accountId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var providers = new List<ProviderRecord>();
        await foreach (var e in tables.Providers.QueryAsync<TableEntity>(e => e.PartitionKey == accountId, cancellationToken: cancellationToken))
        {
            providers.Add(ToProvider(e));
        }

        return providers.OrderBy(p => p.CreatedAt).ToList();
    }

    public async Task<bool> DeleteAsync(string accountId, string providerId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var response = await tables.Providers.DeleteEntityAsync(accountId, providerId, cancellationToken: cancellationToken);
        return response.Status != 404;
    }

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
