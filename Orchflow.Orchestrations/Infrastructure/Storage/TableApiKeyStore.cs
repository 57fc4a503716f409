using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>API keys on Table Storage, in the Accounts table (<see cref="ApiKeyRows"/> has their layout).</summary>
public sealed class TableApiKeyStore(OrchflowTables tables) : IApiKeyStore
{
    const int MaxWriteAttempts = 16;

    public async Task<KeyHolder?> FindAsync(string apiKeyHash, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var lookup = await tables.Accounts.GetEntityIfExistsAsync<TableEntity>(ApiKeyRows.LookupPartition, apiKeyHash, cancellationToken: cancellationToken);
        if (!lookup.HasValue || lookup.Value is not { } key ||
            // Found by the hash itself; compared once more in constant time so a store that matched loosely never lets another key in.
            !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(key.RowKey), Encoding.ASCII.GetBytes(apiKeyHash)))
        {
            return null;
        }

        var accountId = key.GetString("AccountId") ?? "";
        var row = await tables.Accounts.GetEntityIfExistsAsync<TableEntity>(TableAccountStore.AccountPartition, accountId, cancellationToken: cancellationToken);
        if (!row.HasValue || row.Value is not { } accountRow || (accountRow.GetBoolean(TableAccountStore.ClosedColumn) ?? false))
        {
            return null;
        }

        var keyId = key.GetString("KeyId") ?? await AdoptAsync(key, accountRow, cancellationToken);
        return new KeyHolder(TableAccountStore.ToAccount(accountRow), keyId);
    }

    /// <summary>
    /// Gives a key issued before keys were listed (one per account then: the registration's) its id and its listed row,
    /// the first time it is used, so it can be listed and revoked like any other.
    /// </summary>
    async Task<string> AdoptAsync(TableEntity lookup, TableEntity account, CancellationToken cancellationToken)
    {
        var keyId = Ids.AdoptedKeyId(lookup.RowKey);
        var record = new ApiKeyRecord(account.RowKey, keyId, "Default", "…", account.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue);
        await tables.Accounts.UpsertEntityAsync(ApiKeyRows.Index(record, lookup.RowKey), TableUpdateMode.Replace, cancellationToken);
        await tables.Accounts.UpdateEntityAsync(new TableEntity(lookup.PartitionKey, lookup.RowKey) { ["KeyId"] = keyId }, ETag.All,
            TableUpdateMode.Merge, cancellationToken);
        return keyId;
    }

    public async Task<bool> TryCreateAsync(ApiKeyRecord key, string apiKeyHash, int maxPerAccount, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        for (var attempt = 0; attempt < MaxWriteAttempts; attempt++)
        {
            var rows = await ApiKeyRows.ReadAsync(tables, key.AccountId, cancellationToken);
            var guard = rows.FirstOrDefault(r => !ApiKeyRows.IsKey(r));
            var live = rows.Count(r => ApiKeyRows.IsKey(r) && !ApiKeyRows.IsRevoked(r));
            if (live >= maxPerAccount)
            {
                return false;
            }

            try
            {
                // Listed first, then made to work: a key cut off between the two is listed (and revocable), never working unlisted.
                await tables.Accounts.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.Add, ApiKeyRows.Index(key, apiKeyHash)),
                    ApiKeyRows.MoveGuard(key.AccountId, guard, live + 1),
                ], cancellationToken);
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                continue;
            }

            await tables.Accounts.AddEntityAsync(ApiKeyRows.Lookup(apiKeyHash, key.AccountId, key.KeyId), cancellationToken);
            return true;
        }

        throw new InvalidOperationException($"The keys of {key.AccountId} kept changing; try again.");
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(string accountId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var rows = await ApiKeyRows.ReadAsync(tables, accountId, cancellationToken);
        return rows.Where(r => ApiKeyRows.IsKey(r) && !ApiKeyRows.IsRevoked(r))
            .Select(r => ApiKeyRows.ToRecord(accountId, r))
            .OrderBy(k => k.CreatedAt)
            .ThenBy(k => k.KeyId, StringComparer.Ordinal)
            .ToList();
    }

    public async Task<KeyRevocation> RevokeAsync(string accountId, string keyId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        for (var attempt = 0; attempt < MaxWriteAttempts; attempt++)
        {
            var rows = await ApiKeyRows.ReadAsync(tables, accountId, cancellationToken);
            if (rows.FirstOrDefault(r => ApiKeyRows.IsKey(r) && r.RowKey == keyId) is not { } row)
            {
                return new KeyRevocation(RevocationOutcome.NotFound);
            }

            var hash = row.GetString("Hash") ?? "";
            if (!ApiKeyRows.IsRevoked(row))
            {
                var live = rows.Count(r => ApiKeyRows.IsKey(r) && !ApiKeyRows.IsRevoked(r));
                if (live <= 1)
                {
                    return new KeyRevocation(RevocationOutcome.LastKey);
                }

                try
                {
                    // Marked revoked and uncounted at once; should what follows be cut short, the mark stays, the key is
                    // no longer listed, and revoking it again finishes the work.
                    await tables.Accounts.SubmitTransactionAsync(
                    [
                        new TableTransactionAction(TableTransactionActionType.UpdateMerge,
                            new TableEntity(row.PartitionKey, row.RowKey) { ["Revoked"] = true }, row.ETag),
                        ApiKeyRows.MoveGuard(accountId, rows.FirstOrDefault(r => !ApiKeyRows.IsKey(r)), live - 1),
                    ], cancellationToken);
                }
                catch (TableTransactionFailedException e) when (e.Status is 409 or 412 or 404)
                {
                    continue;
                }
            }

            await tables.Accounts.DeleteEntityAsync(ApiKeyRows.LookupPartition, hash, ETag.All, cancellationToken);
            await tables.Accounts.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
            return new KeyRevocation(RevocationOutcome.Revoked, hash);
        }

        throw new InvalidOperationException($"The keys of {accountId} kept changing; try again.");
    }

    public async Task<IReadOnlyList<string>> RevokeAllAsync(string accountId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var hashes = new List<string>();
        foreach (var row in (await ApiKeyRows.ReadAsync(tables, accountId, cancellationToken)).Where(ApiKeyRows.IsKey))
        {
            var hash = row.GetString("Hash") ?? "";
            await tables.Accounts.DeleteEntityAsync(ApiKeyRows.LookupPartition, hash, ETag.All, cancellationToken);
            hashes.Add(hash);
        }

        return hashes;
    }

    public async Task TouchAsync(string accountId, string keyId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        try
        {
            await tables.Accounts.UpdateEntityAsync(new TableEntity(ApiKeyRows.IndexPartition(accountId), keyId) { ["LastUsedAt"] = at }, ETag.All,
                TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // Revoked in between: there is nothing left to stamp.
        }
    }
}
