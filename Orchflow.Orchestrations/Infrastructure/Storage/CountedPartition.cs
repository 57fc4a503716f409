using Azure;
using Azure.Data.Tables;

namespace Orchflow.Infrastructure.Storage;

/// <summary>What became of an add to a <see cref="CountedPartition"/>, and how many items the partition held when it was decided.</summary>
readonly record struct CountedAdd(CountedAddOutcome Outcome, int Count)
{
    public bool Added => Outcome == CountedAddOutcome.Added;
}

enum CountedAddOutcome
{
    Added,

    /// <summary>The partition already held an item with that key: nothing was written, nothing counted.</summary>
    Exists,

    /// <summary>The partition held the most items it may: nothing was written.</summary>
    Full,
}

/// <summary>
/// One partition of items (an account's webhooks, tool servers, providers, active runs) with a guard row beside them
/// that counts them. An item is added only in one batch with the guard moved to count + 1 over the ETag it was read
/// with, and deleted only in one batch with the guard moved to count − 1, so concurrent adds can never pass the limit
/// together and the count never drifts. A partition from before its guard existed is counted once from its rows, by
/// the first add or delete, which adds the guard (failing, and trying again, if another writer added it first).
/// </summary>
sealed class CountedPartition(TableClient table, string partitionKey)
{
    /// <summary>The guard's row key: it sorts after every id (<c>whk_…</c>, <c>tls_…</c>, <c>prv_…</c>, <c>run_…</c>).</summary>
    public const string GuardKey = "~count";

    const string CountColumn = "Count";

    /// <summary>Each conflict is another writer's add or delete landing: as many attempts as concurrent writers are likely.</summary>
    const int MaxAttempts = 32;

    /// <summary>Whether a row of such a partition is an item, not its guard: listings and reads skip the guard.</summary>
    public static bool IsItem(TableEntity row) => row.RowKey != GuardKey;

    /// <summary>Whether a key names an item rather than the guard: a point read for the guard's key finds no item.</summary>
    public static bool IsItemKey(string rowKey) => rowKey != GuardKey;

    /// <summary>
    /// Adds <paramref name="item"/> (its partition key must be this partition's) unless the partition already holds
    /// <paramref name="max"/> items or an item with its key.
    /// </summary>
    public async Task<CountedAdd> TryAddAsync(TableEntity item, int max, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var (guard, count) = await ReadCountAsync(cancellationToken);
            if (count >= max)
            {
                return new CountedAdd(CountedAddOutcome.Full, count);
            }

            try
            {
                await table.SubmitTransactionAsync(
                    [new TableTransactionAction(TableTransactionActionType.Add, item), MoveGuard(guard, count + 1)], cancellationToken);
                return new CountedAdd(CountedAddOutcome.Added, count + 1);
            }
            catch (TableTransactionFailedException e) when (e.Status == 409 && e.FailedTransactionActionIndex == 0)
            {
                return new CountedAdd(CountedAddOutcome.Exists, count);
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                await BackOffAsync(attempt, cancellationToken);
            }
        }

        throw new InvalidOperationException($"The items of {partitionKey} kept changing; try again.");
    }

    /// <summary>
    /// Deletes the item (over <paramref name="etag"/> when given) and counts it out; false, and nothing changed, when
    /// there is no such item (or it changed since <paramref name="etag"/>).
    /// </summary>
    public async Task<bool> DeleteAsync(string rowKey, ETag? etag, CancellationToken cancellationToken)
    {
        if (!IsItemKey(rowKey))
        {
            return false;
        }

        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var (guard, count) = await ReadCountAsync(cancellationToken);
            try
            {
                await table.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partitionKey, rowKey), etag ?? ETag.All),
                    MoveGuard(guard, Math.Max(0, count - 1)),
                ], cancellationToken);
                return true;
            }
            catch (TableTransactionFailedException e) when (e.Status is 404 or 412 && e.FailedTransactionActionIndex == 0)
            {
                return false;
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                await BackOffAsync(attempt, cancellationToken);
            }
        }

        throw new InvalidOperationException($"The items of {partitionKey} kept changing; try again.");
    }

    /// <summary>How many items the partition holds: the guard's count, or its rows counted where it has no guard yet.</summary>
    public async Task<int> CountAsync(CancellationToken cancellationToken) => (await ReadCountAsync(cancellationToken)).Count;

    /// <summary>Every item of the partition, the guard left out.</summary>
    public async Task<List<TableEntity>> ItemsAsync(CancellationToken cancellationToken, IEnumerable<string>? select = null)
    {
        var items = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(ItemsFilter(), select: select, cancellationToken: cancellationToken))
        {
            items.Add(row);
        }

        return items;
    }

    /// <summary>Deletes every row of the partition, the guard included (an account's erasure); rows already gone are passed over.</summary>
    public async Task EraseAsync(CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}"), select: ["RowKey"],
                           cancellationToken: cancellationToken))
        {
            keys.Add(row.RowKey);
        }

        foreach (var key in keys)
        {
            await table.DeleteEntityAsync(partitionKey, key, ETag.All, cancellationToken);
        }
    }

    string ItemsFilter() => TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey ne {GuardKey}");

    /// <summary>The guard as read (null where there is none yet) and the count it holds, or the items counted where there is none.</summary>
    async Task<(TableEntity? Guard, int Count)> ReadCountAsync(CancellationToken cancellationToken)
    {
        var guard = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, GuardKey, select: [CountColumn], cancellationToken: cancellationToken);
        if (guard.HasValue && guard.Value is { } row)
        {
            return (row, row.GetInt32(CountColumn) ?? 0);
        }

        return (null, (await ItemsAsync(cancellationToken, select: ["RowKey"])).Count);
    }

    /// <summary>
    /// The batch action that moves the guard to <paramref name="count"/>: a replace over the ETag it was read with, or an
    /// add where there was none, which fails if another writer added it first.
    /// </summary>
    TableTransactionAction MoveGuard(TableEntity? guard, int count)
    {
        var row = new TableEntity(partitionKey, GuardKey) { [CountColumn] = count };
        return guard is null
            ? new TableTransactionAction(TableTransactionActionType.Add, row)
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, guard.ETag);
    }

    /// <summary>A few milliseconds, more after each lost race, so writers that collided spread out.</summary>
    static Task BackOffAsync(int attempt, CancellationToken cancellationToken) =>
        Task.Delay(Random.Shared.Next(1, 6) * Math.Min(attempt + 1, 8), cancellationToken);
}
