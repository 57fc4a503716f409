using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// The event logs on Table Storage: rows of each run's own partition, after every other row (<see cref="RunRows"/>),
/// keyed by sequence, so the events after a sequence are one range query.
/// </summary>
public sealed class TableRunEventStore(OrchflowTables tables, KnownRuns? known = null) : IRunEventStore
{
    readonly KnownRuns known = known ?? KnownRuns.WithoutWindow();

    public async Task<RunEventPage?> ListAsync(string accountId, string runId, long after, int limit, CancellationToken cancellationToken)
    {
        // The owner check and the page at once: the page is dropped unread when the run is not the caller's.
        var mark = MarkAsync(accountId, runId, cancellationToken);
        var page = ReadAsync(runId, after, limit, cancellationToken);
        await Task.WhenAll(mark, page);
        return await mark is { } found ? new RunEventPage(await page, found) : null;
    }

    public async Task<IReadOnlyList<RunLogEntry>> ReadAsync(string runId, long after, int limit, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var entries = new List<RunLogEntry>();
        // Sequences have no gaps, so the page is exactly the rows from after + 1 to after + limit.
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {runId} and RowKey gt {RunRows.Log(after)} and RowKey le {RunRows.Log(after + limit)}");
        await foreach (var row in tables.RunTasks.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            entries.Add(RunRows.ToEntry(row));
        }

        return entries;
    }

    public async Task<bool> LoggedAsync(string runId, long sequence, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var row = await tables.RunTasks.GetEntityIfExistsAsync<TableEntity>(runId, RunRows.Log(sequence), select: ["RowKey"],
            cancellationToken: cancellationToken);
        return row.HasValue;
    }

    public Task<RunMark?> RecentMarkAsync(string accountId, string runId, CancellationToken cancellationToken) =>
        known.Recent(runId) is { } recent
            ? Task.FromResult(recent.AccountId == accountId ? recent.Mark : null)
            : MarkAsync(accountId, runId, cancellationToken);

    public async Task<RunMark?> MarkAsync(string accountId, string runId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var stamp = known.Now();
        var status = await tables.RunTasks.GetEntityIfExistsAsync<TableEntity>(runId, RunRows.Status,
            select: RunRows.MarkColumns, cancellationToken: cancellationToken);
        if (status.HasValue && status.Value is { } row)
        {
            var mark = RunRows.MarkOf(row);
            var owner = row.GetString("AccountId");
            if (owner is not null)
            {
                known.Saw(owner, runId, mark, stamp);
            }

            return owner == accountId ? mark : null;
        }

        // A run written before status rows had owners: its head says whose it is.
        var head = await tables.RunTasks.GetEntityIfExistsAsync<TableEntity>(runId, RunRows.Head,
            select: ["AccountId", "Status"], cancellationToken: cancellationToken);
        return head.HasValue && head.Value is { } h && h.GetString("AccountId") == accountId
            ? new RunMark(0, 0, WireNames.Parse<RunStatus>(h.GetString("Status")))
            : null;
    }
}
