using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// The rows of the Accounts table that hold API keys. Two per key: the lookup row (PK <c>key</c>, RK the keyed hash),
/// which authentication reads by one point read, and the key's row in its account's key partition
/// (PK <c>keys~{account}</c>, RK the key id), which listings read and which holds the hash, so revoking by id finds
/// the lookup row. Beside the key rows, a guard row counts the account's live keys; every change of the count is one
/// ETag-guarded batch with the key row it adds or revokes, so two revocations at once can never remove the last key.
/// </summary>
static class ApiKeyRows
{
    public const string LookupPartition = "key";
    public const string Guard = "~keys";
    const string IndexPrefix = "keys~";

    public static string IndexPartition(string accountId) => IndexPrefix + accountId;

    public static TableEntity Lookup(string apiKeyHash, string accountId, string keyId) =>
        new(LookupPartition, apiKeyHash) { ["AccountId"] = accountId, ["KeyId"] = keyId };

    public static TableEntity Index(ApiKeyRecord key, string apiKeyHash) => new(IndexPartition(key.AccountId), key.KeyId)
    {
        ["Hash"] = apiKeyHash,
        ["Label"] = key.Label,
        ["KeyHint"] = key.KeyHint,
        ["CreatedAt"] = key.CreatedAt,
        ["Revoked"] = false,
    };

    public static TableEntity GuardRow(string accountId, int live) => new(IndexPartition(accountId), Guard) { ["Live"] = live };

    public static bool IsKey(TableEntity row) => row.RowKey != Guard;

    public static bool IsRevoked(TableEntity row) => row.GetBoolean("Revoked") ?? false;

    public static ApiKeyRecord ToRecord(string accountId, TableEntity row) => new(
        accountId,
        row.RowKey,
        row.GetString("Label") ?? "",
        row.GetString("KeyHint") ?? "",
        row.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        row.GetDateTimeOffset("LastUsedAt"));

    /// <summary>Every row of the account's key partition: its keys, revoked or not, and the guard.</summary>
    public static async Task<List<TableEntity>> ReadAsync(OrchflowTables tables, string accountId, CancellationToken cancellationToken)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in tables.Accounts.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {IndexPartition(accountId)}"), cancellationToken: cancellationToken))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>
    /// The batch action that moves the guard to <paramref name="live"/> keys: an ETag-guarded replace of the guard as
    /// read, or an add where the account has none yet (one registered before keys were counted), which fails if another
    /// writer added it first.
    /// </summary>
    public static TableTransactionAction MoveGuard(string accountId, TableEntity? guard, int live) =>
        guard is null
            ? new TableTransactionAction(TableTransactionActionType.Add, GuardRow(accountId, live))
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, GuardRow(accountId, live), guard.ETag);

    /// <summary>Deletes every key of the account, its lookup row first, then its listed row, and the guard; rows already gone are passed over.</summary>
    public static async Task DeleteAllAsync(OrchflowTables tables, string accountId, CancellationToken cancellationToken)
    {
        foreach (var key in await ReadAsync(tables, accountId, cancellationToken))
        {
            if (IsKey(key) && key.GetString("Hash") is { } hash)
            {
                await tables.Accounts.DeleteEntityAsync(LookupPartition, hash, ETag.All, cancellationToken);
            }

            await tables.Accounts.DeleteEntityAsync(key.PartitionKey, key.RowKey, ETag.All, cancellationToken);
        }
    }
}
