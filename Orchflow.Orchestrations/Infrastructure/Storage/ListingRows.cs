using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// The row per run under its account that listings read: a copy of what a listing shows of the run's partition,
/// brought up to it after a change that moved any of that. The row's ETag and version as this process last wrote
/// them are kept in <see cref="KnownRuns"/>, so the next sync writes over the row without reading it first; another
/// writer in between makes that write fail (412), and the row is read and compared.
/// </summary>
sealed class ListingRows(OrchflowTables tables, KnownRuns known, TimeProvider clock)
{
    /// <summary>
    /// How long after this process wrote a run's listing row a change of its tokens alone waits before it is written:
    /// a run's model calls, finishing close together, cost its row one write a window, not one each. Status, error and
    /// planner changes are written at once and carry the tokens with them.
    /// </summary>
    public static readonly TimeSpan TokensWindow = TimeSpan.FromSeconds(1);

    /// <summary>Runs with a write of their tokens waiting, and the time of their latest change.</summary>
    readonly ConcurrentDictionary<string, DateTimeOffset> waiting = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether a change moved what a listing shows of the run (its status, tokens, error, planner), which most task
    /// changes do not: only then is the listing row brought up to date.
    /// </summary>
    public static bool Changed(RunState before, RunState after) =>
        before.Status != after.Status || before.Usage != after.Usage || before.Error != after.Error || before.PlannedBy != after.PlannedBy;

    /// <summary>
    /// Brings the run's row in the listing table up to the partition, unless a later write already did: the version
    /// orders writes that land out of order. The partition is the truth; this row is its copy for listings.
    /// </summary>
    public async Task SyncAsync(string accountId, string runId, RunImage image, DateTimeOffset now, CancellationToken cancellationToken) =>
        await SyncAsync(accountId, runId, image, now, tokensOnly: false, cancellationToken);

    /// <summary>
    /// As <see cref="SyncAsync(string, string, RunImage, DateTimeOffset, CancellationToken)"/>; a change of
    /// <paramref name="tokensOnly"/> within <see cref="TokensWindow"/> of this process's last write of the row is
    /// written at the window's end instead, with whatever the run holds by then.
    /// </summary>
    public async Task SyncAsync(string accountId, string runId, RunImage image, DateTimeOffset now, bool tokensOnly, CancellationToken cancellationToken)
    {
        if (tokensOnly && known.Listing(runId) is { } written && clock.GetElapsedTime(written.At) is var since && since < TokensWindow)
        {
            WriteLater(accountId, runId, now, TokensWindow - since);
            return;
        }

        await WriteAsync(accountId, runId, image, now, cancellationToken);
    }

    /// <summary>Whether a change moved the run's tokens and nothing else a listing shows.</summary>
    public static bool TokensOnly(RunState before, RunState after) =>
        before.Usage != after.Usage && before.Status == after.Status && before.Error == after.Error && before.PlannedBy == after.PlannedBy;

    /// <summary>
    /// Writes the run's row after <paramref name="delay"/>, once however many changes wait, from the image this process
    /// then knows. Should it know none (another instance moved the run on, and writes the row itself) nothing is written;
    /// should this process end first, the run's next change of status brings the row up to date.
    /// </summary>
    void WriteLater(string accountId, string runId, DateTimeOffset changedAt, TimeSpan delay)
    {
        var first = true;
        waiting.AddOrUpdate(runId, changedAt, (_, earlier) =>
        {
            first = false;
            return changedAt > earlier ? changedAt : earlier;
        });
        if (!first)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            await Task.Delay(delay, clock);
            if (!waiting.TryRemove(runId, out var at) || known.Image(runId) is not { State: not null } image)
            {
                return;
            }

            try
            {
                await WriteAsync(accountId, runId, image, at, CancellationToken.None);
            }
            catch (RequestFailedException)
            {
                // The row catches up with the run's next change of status; the run itself is written already.
            }
        });
    }

    async Task WriteAsync(string accountId, string runId, RunImage image, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var state = image.State!;
        var version = image.Version;
        var update = new TableEntity(accountId, runId)
        {
            ["Status"] = state.Status.ToWire(),
            ["InputTokens"] = state.Usage.InputTokens,
            ["OutputTokens"] = state.Usage.OutputTokens,
            // A merge keeps a column sent as null: an error a retry cleared is written empty.
            ["Error"] = state.Error ?? "",
            ["PlannedBy"] = state.PlannedBy,
            ["Version"] = version,
            ["UpdatedAt"] = now,
        };
        if (known.Listing(runId) is { } last)
        {
            if (last.Version >= version || await TryUpdateAsync(last.ETag))
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
                // An ended run's row seldom changes again (a retry reads it first): nothing to keep.
                known.Listed(runId, version, state.Status.IsTerminal() ? default : response.Headers.ETag ?? default);
                return true;
            }
            catch (RequestFailedException e) when (e.Status is 412 or 404)
            {
                // Another write of this run updated the row in between (or it is gone): compare versions again.
                known.Listed(runId, 0, default);
                return false;
            }
        }
    }
}
