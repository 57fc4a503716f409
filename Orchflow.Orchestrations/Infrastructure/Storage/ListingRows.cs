using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Caching.Memory;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// The row per run under its account that listings read: a copy of what a listing shows of the run's partition,
/// brought up to it after a change that moved any of that. Each row's ETag and version as this process last wrote
/// them are kept, so the next sync writes over the row without reading it first; another writer in between makes
/// that write fail (412), and the row is read and compared.
/// </summary>
sealed class ListingRows(OrchflowTables tables) : IDisposable
{
    readonly MemoryCache listed = new(new MemoryCacheOptions { SizeLimit = 100_000 });

    /// <summary>
    /// Whether the change moved what a listing shows of the run (its status, tokens, error, planner), which most task
    /// changes and many transitions do not: only then is the listing row brought up to date.
    /// </summary>
    public static bool Changed(PartitionState before, TableEntity status) =>
        status.GetString("Status") != before.Status.ToWire() ||
        status.GetInt64("InputTokens") != before.Usage.InputTokens ||
        status.GetInt64("OutputTokens") != before.Usage.OutputTokens ||
        status.GetString("Error") != before.Error ||
        status.GetString("PlannedBy") != before.PlannedBy;

    /// <summary>
    /// Brings the run's row in the listing table up to the partition, unless a later write already did: the version
    /// orders writes that land out of order. The partition is the truth; this row is its copy for listings.
    /// </summary>
    public async Task SyncAsync(string accountId, string runId, TableEntity status, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var version = status.GetInt64("Version") ?? 0;
        var update = new TableEntity(accountId, runId)
        {
            ["Status"] = status["Status"],
            ["InputTokens"] = status["InputTokens"],
            ["OutputTokens"] = status["OutputTokens"],
            ["Error"] = status.GetString("Error"),
            ["PlannedBy"] = status.GetString("PlannedBy"),
            ["Version"] = version,
            ["UpdatedAt"] = now,
        };
        if (listed.TryGetValue(runId, out Listing? last) && last is not null)
        {
            if (last.Version >= version)
            {
                return;
            }

            if (await TryUpdateAsync(last.ETag))
            {
                return;
            }
        }

        for (var attempt = 0; attempt < RunPartition.MaxAttempts; attempt++)
        {
            var row = await tables.Runs.GetEntityIfExistsAsync<TableEntity>(accountId, runId, select: ["Version"], cancellationToken: cancellationToken);
            if (!row.HasValue || row.Value is null || (row.Value.GetInt64("Version") ?? 0) >= version)
            {
                return;
            }

            if (await TryUpdateAsync(row.Value.ETag))
            {
                return;
            }
        }

        async Task<bool> TryUpdateAsync(ETag etag)
        {
            try
            {
                var response = await tables.Runs.UpdateEntityAsync(update, etag, TableUpdateMode.Merge, cancellationToken);
                Listed(runId, version, response.Headers.ETag ?? default, WireNames.Parse<RunStatus>(status.GetString("Status")));
                return true;
            }
            catch (RequestFailedException e) when (e.Status is 412 or 404)
            {
                // Another write of this run updated the row in between (or it is gone): compare versions again.
                listed.Remove(runId);
                return false;
            }
        }
    }

    /// <summary>The listing row of the run now holds <paramref name="version"/> under <paramref name="etag"/>.</summary>
    public void Listed(string runId, long version, ETag etag, RunStatus status)
    {
        if (status.IsTerminal() || etag == default)
        {
            // An ended run's row seldom changes again (a retry reads it first).
            listed.Remove(runId);
            return;
        }

        listed.Set(runId, new Listing(version, etag), new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromMinutes(10) });
    }

    public void Dispose() => listed.Dispose();

    sealed record Listing(long Version, ETag ETag);
}
