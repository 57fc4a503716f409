using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>An account's runs, newest first, by one key range, and their count kept in count rows beside them.</summary>
public sealed partial class TableRunStore
{
    /// <summary>
    /// The rows beside an account's runs that count them, so a listing's total is one short range read. They sort after
    /// every run id: <c>~count</c>, written when the account is registered (or first listed), holds what was counted
    /// then, and each start adds one to a shard <c>~count~00</c>…<c>~count~15</c> picked at random, so concurrent
    /// starts on one account seldom race for the same row.
    /// </summary>
    internal const string CountKey = "~count";

    internal const string CountShardPrefix = "~count~";
    const string EndOfCount = "~count~~";
    internal const int CountShards = 16;

    /// <summary>The range of an account's run rows (before its count rows), after <paramref name="after"/> when given.</summary>
    internal static string RunRange(string accountId, string? after = null) => after is null
        ? TableClient.CreateQueryFilter($"PartitionKey eq {accountId} and RowKey lt {CountKey}")
        : TableClient.CreateQueryFilter($"PartitionKey eq {accountId} and RowKey gt {after} and RowKey lt {CountKey}");

    public async Task<RunPage> ListAsync(string accountId, int limit, int offset, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        if (offset == 0)
        {
            // The first page needs no count to find it: the count and the page are read at once.
            var counting = CountAsync(accountId, cancellationToken);
            var first = PageAsync(accountId, null, limit, cancellationToken);
            await Task.WhenAll(counting, first);
            return new RunPage(await first, await counting);
        }

        var total = await CountAsync(accountId, cancellationToken);
        if (offset >= total)
        {
            return new RunPage([], total);
        }

        // Table Storage has no offset: the runs skipped are read as keys alone, and the page is one range from the key after them.
        return new RunPage(await PageAsync(accountId, await KeyAtAsync(accountId, offset, cancellationToken), limit, cancellationToken), total);
    }

    /// <summary>
    /// The account's runs after the key <paramref name="after"/> (from the first when null), at most <paramref name="limit"/>:
    /// run ids sort newest first, so key order is listing order.
    /// </summary>
    async Task<List<RunRecord>> PageAsync(string accountId, string? after, int limit, CancellationToken cancellationToken)
    {
        var runs = new List<RunRecord>();
        await foreach (var e in tables.Runs.QueryAsync<TableEntity>(RunRange(accountId, after), maxPerPage: limit, cancellationToken: cancellationToken))
        {
            runs.Add(RunImage.Listed(e));
            if (runs.Count == limit)
            {
                break;
            }
        }

        return runs;
    }

    /// <summary>The key of the <paramref name="offset"/>th run (1-based), reading keys alone: what an offset costs.</summary>
    async Task<string?> KeyAtAsync(string accountId, int offset, CancellationToken cancellationToken)
    {
        var seen = 0;
        await foreach (var e in tables.Runs.QueryAsync<TableEntity>(
                           RunRange(accountId), maxPerPage: Math.Min(1000, offset), select: ["RowKey"], cancellationToken: cancellationToken))
        {
            if (++seen == offset)
            {
                return e.RowKey;
            }
        }

        return null;
    }

    /// <summary>How many runs the account has, from its count rows; an account listed before it had them is counted once.</summary>
    async Task<int> CountAsync(string accountId, CancellationToken cancellationToken)
    {
        var counted = false;
        var total = 0;
        await foreach (var row in tables.Runs.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {accountId} and RowKey ge {CountKey} and RowKey lt {EndOfCount}"),
                           select: ["RowKey", "Count"], cancellationToken: cancellationToken))
        {
            counted |= row.RowKey == CountKey;
            total += row.GetInt32("Count") ?? 0;
        }

        if (counted)
        {
            return total;
        }

        var count = await CountKeysAsync(accountId, cancellationToken);
        if (count == 0)
        {
            // Nothing to remember: an account without runs gets its count row with its first run.
            return 0;
        }

        try
        {
            await tables.Runs.AddEntityAsync(new TableEntity(accountId, CountKey) { ["Count"] = count }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // A run's start counted the account at the same moment; its count stands.
        }

        return count;
    }

    async Task<int> CountKeysAsync(string accountId, CancellationToken cancellationToken)
    {
        var count = 0;
        await foreach (var _ in tables.Runs.QueryAsync<TableEntity>(
                           RunRange(accountId), maxPerPage: 1000, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            count++;
        }

        return count;
    }

    public async Task StartCountingAsync(string accountId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        await tables.Runs.UpsertEntityAsync(new TableEntity(accountId, CountKey) { ["Count"] = 0 }, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>
    /// Lists a new run (<paramref name="listed"/>, its listing row) and counts it on one of its account's count shards, in
    /// one batch, by the shard's ETag, so concurrent starts each count once and a run is never listed uncounted or counted
    /// unlisted; a start that loses a race tries another shard. An account that has no count row yet (one registered
    /// before runs were counted) is counted by its first listing instead. Returns the listing row's ETag.
    /// </summary>
    async Task<ETag> ListNewRunAsync(TableEntity listed, CancellationToken cancellationToken)
    {
        var accountId = listed.PartitionKey;
        for (var attempt = 0; attempt < 32; attempt++)
        {
            var shard = $"{CountShardPrefix}{Random.Shared.Next(CountShards):D2}";
            var row = await tables.Runs.GetEntityIfExistsAsync<TableEntity>(accountId, shard, select: ["Count"], cancellationToken: cancellationToken);
            List<TableTransactionAction> actions = [new(TableTransactionActionType.Add, listed)];
            if (row.HasValue && row.Value is { } counted)
            {
                actions.Add(new(TableTransactionActionType.UpdateReplace,
                    new TableEntity(accountId, shard) { ["Count"] = (counted.GetInt32("Count") ?? 0) + 1 }, counted.ETag));
            }
            else if ((await tables.Runs.GetEntityIfExistsAsync<TableEntity>(accountId, CountKey, select: ["RowKey"], cancellationToken: cancellationToken)).HasValue)
            {
                actions.Add(new(TableTransactionActionType.Add, new TableEntity(accountId, shard) { ["Count"] = 1 }));
            }

            try
            {
                var landed = await tables.Runs.SubmitTransactionAsync(actions, cancellationToken);
                return landed.Value[0].Headers.ETag ?? default;
            }
            catch (TableTransactionFailedException e) when (e.Status == 412 || e.Status == 409 && e.FailedTransactionActionIndex == 1)
            {
                // Another start counted on this shard first (only the shard is written over an ETag): another shard, most
                // likely one nobody is writing.
            }
        }

        throw new InvalidOperationException($"The run count of {accountId} kept changing.");
    }
}
