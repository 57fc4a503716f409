using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// Pending erasures and the rows only erasure deletes, on Table Storage. Every delete here may meet a row already gone
/// (an earlier pass cut short) and goes on: each pass can be repeated until one finds nothing left.
/// </summary>
public sealed class TableErasureStore(OrchflowTables tables, KnownRuns known) : IErasureStore
{
    const string Pending = "pending";
    const int Batch = 100;

    public async Task RequestAsync(ErasureRequest request, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var row = new TableEntity(Pending, MarkerKey(request.AccountId, request.RunId))
        {
            ["AccountId"] = request.AccountId,
            ["RunId"] = request.RunId,
            ["RequestedAt"] = request.RequestedAt,
            ["Attempts"] = request.Attempts,
        };
        try
        {
            await tables.Erasures.AddEntityAsync(row, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // Asked for before: the first request's time stands, and it keeps the most attempts either knew of.
            var existing = (await tables.Erasures.GetEntityAsync<TableEntity>(Pending, row.RowKey, cancellationToken: cancellationToken)).Value;
            if ((existing.GetInt32("Attempts") ?? 0) < request.Attempts)
            {
                await tables.Erasures.UpdateEntityAsync(new TableEntity(Pending, row.RowKey) { ["Attempts"] = request.Attempts }, ETag.All,
                    TableUpdateMode.Merge, cancellationToken);
            }
        }
    }

    public async Task<IReadOnlyList<ErasureRequest>> PendingAsync(CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var pending = new List<ErasureRequest>();
        await foreach (var row in tables.Erasures.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Pending}"),
                           cancellationToken: cancellationToken))
        {
            pending.Add(new ErasureRequest(row.GetString("AccountId") ?? "", row.GetString("RunId"),
                row.GetDateTimeOffset("RequestedAt") ?? DateTimeOffset.MinValue, row.GetInt32("Attempts") ?? 0));
        }

        return pending;
    }

    public async Task DoneAsync(ErasureRequest request, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        await tables.Erasures.DeleteEntityAsync(Pending, MarkerKey(request.AccountId, request.RunId), ETag.All, cancellationToken);
    }

    public async Task EraseRunRowsAsync(string accountId, string runId, IReadOnlyList<string> webhookIds, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        await DeleteAllAsync(tables.RunTasks, TableClient.CreateQueryFilter($"PartitionKey eq {runId}"), cancellationToken);
        known.Forget(runId);
        await UnlistAsync(accountId, runId, cancellationToken);
        await DeleteDeliveriesAsync(runId, webhookIds, cancellationToken);

        // A write that read the run before its rows went (a task's commit, a dispatch of its events to webhooks) may have
        // added one since: read once more.
        await DeleteAllAsync(tables.RunTasks, TableClient.CreateQueryFilter($"PartitionKey eq {runId}"), cancellationToken);
        await DeleteDeliveriesAsync(runId, webhookIds, cancellationToken);
        known.Forget(runId);
    }

    async Task DeleteDeliveriesAsync(string runId, IReadOnlyList<string> webhookIds, CancellationToken cancellationToken)
    {
        foreach (var webhookId in webhookIds)
        {
            await DeleteAllAsync(tables.WebhookDeliveries, TableClient.CreateQueryFilter($"PartitionKey eq {webhookId} and RunId eq {runId}"),
                cancellationToken);
        }
    }

    /// <summary>
    /// Deletes the run's listing row and counts it out, in one batch of the account's partition, so the count moves
    /// exactly once however often this is repeated: once the row is gone the batch fails and nothing is counted.
    /// </summary>
    async Task UnlistAsync(string accountId, string runId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < RunPartition.MaxAttempts; attempt++)
        {
            var counted = await tables.Runs.GetEntityIfExistsAsync<TableEntity>(accountId, TableRunStore.CountKey, select: ["RowKey"],
                cancellationToken: cancellationToken);
            var delete = new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(accountId, runId), ETag.All);
            if (!counted.HasValue)
            {
                // Not counted yet (an account from before counts): its first listing counts what is left.
                await tables.Runs.DeleteEntityAsync(accountId, runId, ETag.All, cancellationToken);
                return;
            }

            var shard = $"{TableRunStore.CountShardPrefix}{Random.Shared.Next(TableRunStore.CountShards):D2}";
            var row = await tables.Runs.GetEntityIfExistsAsync<TableEntity>(accountId, shard, select: ["Count"], cancellationToken: cancellationToken);
            var count = row.HasValue && row.Value is { } r
                ? new TableTransactionAction(TableTransactionActionType.UpdateReplace,
                    new TableEntity(accountId, shard) { ["Count"] = (r.GetInt32("Count") ?? 0) - 1 }, r.ETag)
                : new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(accountId, shard) { ["Count"] = -1 });
            try
            {
                await tables.Runs.SubmitTransactionAsync([delete, count], cancellationToken);
                return;
            }
            catch (TableTransactionFailedException e) when (e.Status == 404 && e.FailedTransactionActionIndex == 0)
            {
                return;
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                // A start counted on this shard at the same moment: another shard.
            }
        }

        throw new InvalidOperationException($"The run count of {accountId} kept changing.");
    }

    public async Task<IReadOnlyList<string>> RunIdsAsync(string accountId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var ids = new List<string>();
        await foreach (var row in tables.Runs.QueryAsync<TableEntity>(
                           TableRunStore.RunRange(accountId), select: ["RowKey"],
                           cancellationToken: cancellationToken))
        {
            ids.Add(row.RowKey);
        }

        return ids;
    }

    public async Task<IReadOnlyList<EndedRun>> EndedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var ended = new List<EndedRun>();
        // A listing row's UpdatedAt is when its run last changed: for an ended run, when it ended.
        var filter = TableClient.CreateQueryFilter(
            $"(Status eq {RunStatus.Completed.ToWire()} or Status eq {RunStatus.Failed.ToWire()} or Status eq {RunStatus.Cancelled.ToWire()}) and UpdatedAt lt {cutoff}");
        await foreach (var row in tables.Runs.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            ended.Add(new EndedRun(row.PartitionKey, row.RowKey));
            if (ended.Count == limit)
            {
                break;
            }
        }

        return ended;
    }

    public async Task EraseAccountRowsAsync(string accountId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        await DeleteAllAsync(tables.Runs, TableClient.CreateQueryFilter($"PartitionKey eq {accountId}"), cancellationToken);
        await new CountedPartition(tables.Accounts, TableActiveRuns.Partition(accountId)).EraseAsync(cancellationToken);
        foreach (var counted in new[] { tables.Providers, tables.Webhooks, tables.ToolServers })
        {
            // Their items went through their stores, each counted out; the guard that counted them is all that is left.
            await counted.DeleteEntityAsync(accountId, CountedPartition.GuardKey, ETag.All, cancellationToken);
        }

        await ApiKeyRows.DeleteAllAsync(tables, accountId, cancellationToken);

        // The account row last: it names the email, and while it stands a pass cut short can find everything again.
        var account = await tables.Accounts.GetEntityIfExistsAsync<TableEntity>(TableAccountStore.AccountPartition, accountId, cancellationToken: cancellationToken);
        if (account.HasValue && account.Value is { } row)
        {
            await tables.Accounts.DeleteEntityAsync(TableAccountStore.EmailPartition, TableAccountStore.EmailKey(row.GetString("Email") ?? ""), ETag.All,
                cancellationToken);
            await tables.Accounts.DeleteEntityAsync(TableAccountStore.AccountPartition, accountId, ETag.All, cancellationToken);
        }
    }

    /// <summary>Deletes every row the filter finds, a batch per partition and hundred rows; a batch that meets a row gone goes row by row.</summary>
    static async Task DeleteAllAsync(TableClient table, string filter, CancellationToken cancellationToken)
    {
        var rows = new List<(string Partition, string Row)>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            rows.Add((row.PartitionKey, row.RowKey));
        }

        foreach (var partition in rows.GroupBy(r => r.Partition))
        {
            foreach (var chunk in partition.Chunk(Batch))
            {
                try
                {
                    await table.SubmitTransactionAsync(
                        chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(r.Partition, r.Row), ETag.All)),
                        cancellationToken);
                }
                catch (TableTransactionFailedException e) when (e.Status == 404)
                {
                    foreach (var (p, r) in chunk)
                    {
                        await table.DeleteEntityAsync(p, r, ETag.All, cancellationToken);
                    }
                }
            }
        }
    }

    static string MarkerKey(string accountId, string? runId) => runId is null ? accountId : $"{accountId}~{runId}";
}
