using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// The run projection on Table Storage. Each run has a partition of its own (PK the run id) holding its head, status,
/// tasks, long texts and event log, written only through <see cref="RunPartition"/>, one batch per decided change;
/// reading a run is one range query of it. A row per run under its account (PK account, RK run id) serves listings,
/// with the account's run count beside them (TableRunStore.Listing.cs). What this process knows of each run is kept in
/// <see cref="KnownRuns"/>. A change that ends a run gives back its active-run place (<see cref="TableActiveRuns"/>).
/// </summary>
public sealed partial class TableRunStore(
    OrchflowTables tables, TimeProvider clock, IEnumerable<IRunLogObserver> observers, IRunLogOutbox? outbox = null, KnownRuns? known = null)
    : IRunStore
{
    // Without the host's memory, one of its own: it never shares what it knows with another store.
    readonly RunPartition partition = new(tables, clock, observers, outbox, known ??= KnownRuns.WithoutWindow());
    readonly KnownRuns known = known;

    /// <summary>The account's active-run places: a run gives its place back here once its end is committed.</summary>
    readonly TableActiveRuns active = new(tables, clock);

    /// <summary>
    /// A definition as its text reads: the default encoder writes every non-ASCII character as a six-character escape,
    /// which would make a definition in another script several times longer. It is stored, never put in a page.
    /// </summary>
    static readonly JsonSerializerOptions DefinitionJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public async Task CreateAsync(RunRecord run, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var definition = JsonSerializer.Serialize(run.Definition, DefinitionJson);
        var head = new TableEntity(run.RunId, RunRows.Head)
        {
            ["AccountId"] = run.AccountId,
            ["Status"] = run.Status.ToWire(),
            ["CreatedAt"] = run.CreatedAt,
            ["UpdatedAt"] = run.UpdatedAt,
        };
        TextChunks.SetProperty(head, "Definition", definition);

        // The partition first, then the listing row with the run counted, in one batch: should that fail, the partition is
        // deleted again and the caller is told the start failed. A listing row written first could leave a listed run,
        // queued for ever, whose start was never attempted.
        await partition.CreateAsync(run, head, cancellationToken);
        try
        {
            var listed = new TableEntity(run.AccountId, run.RunId)
            {
                ["Status"] = run.Status.ToWire(),
                ["Goal"] = run.Definition.Goal,
                ["InputTokens"] = 0L,
                ["OutputTokens"] = 0L,
                ["Version"] = 1L,
                ["CreatedAt"] = run.CreatedAt,
                ["UpdatedAt"] = run.UpdatedAt,
            };
            TextChunks.SetProperty(listed, "Definition", definition);
            var etag = await ListNewRunAsync(listed, cancellationToken);
            known.Listed(run.RunId, 1, run.Status.IsTerminal() ? default : etag);
        }
        catch
        {
            try
            {
                await partition.UndoCreateAsync(run.RunId, CancellationToken.None);
            }
            catch (RequestFailedException)
            {
                // Storage is failing: the start's own failure is what the caller is told.
            }

            throw;
        }
    }

    public async Task<RunRecord?> GetAsync(string accountId, string runId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        if (known.Image(runId) is { } image)
        {
            // The run as known here, if its version has not moved since: one point read of its status row says.
            var stamp = known.Now();
            var status = await tables.RunTasks.GetEntityIfExistsAsync<TableEntity>(runId, RunRows.Status, select: RunRows.MarkColumns,
                cancellationToken: cancellationToken);
            if (status.HasValue && status.Value is { } row && row.GetString("AccountId") is { } owner)
            {
                var mark = RunRows.MarkOf(row);
                known.Saw(owner, runId, mark, stamp);
                if (mark.Version == image.Version)
                {
                    return await RecordAsync(image, accountId, cancellationToken);
                }
            }
        }

        return await RecordAsync(await partition.ReadAsync(runId, cancellationToken), accountId, cancellationToken);
    }

    public async Task<RunRecord?> GetReachedAsync(string accountId, string runId, long reached, CancellationToken cancellationToken)
    {
        if (reached > 0 && known.Image(runId) is { } image && image.Version >= reached)
        {
            return await RecordAsync(image, accountId, cancellationToken);
        }

        return await GetAsync(accountId, runId, cancellationToken);
    }

    public async Task<RunRecord?> GetRecentAsync(string accountId, string runId, CancellationToken cancellationToken)
    {
        if (known.Recent(runId) is { } recent && known.Image(runId) is { } image && image.Version == recent.Mark.Version)
        {
            return await RecordAsync(image, accountId, cancellationToken);
        }

        return await GetAsync(accountId, runId, cancellationToken);
    }

    public async Task<RunChange?> ChangeAsync(string accountId, string runId, RunDecider decide, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        if (await partition.CommitAsync(accountId, runId, decide, cancellationToken) is not var (before, decision, after))
        {
            return null;
        }

        if (!before.Status.IsTerminal() && after.State!.Status.IsTerminal())
        {
            // The end is committed: the place goes back whatever the caller does next. A crash before this line leaves the
            // place behind, and the account's next start at its limit gives it back (TableActiveRuns).
            await active.ReleaseAsync(accountId, runId, after.State.Attempt, CancellationToken.None);
        }

        return new RunChange(before, decision, (await RecordAsync(after, accountId, cancellationToken))!);
    }

    /// <summary>
    /// The account's run as the image holds it; null when it is another account's or no run. A run whose head was never
    /// written is read with its listing row, which also proves the caller owns it.
    /// </summary>
    async Task<RunRecord?> RecordAsync(RunImage image, string accountId, CancellationToken cancellationToken)
    {
        if (image.AccountId != accountId && image.AccountId is not null)
        {
            return null;
        }

        if (image.Record is { } run)
        {
            return run;
        }

        var listed = await tables.Runs.GetEntityIfExistsAsync<TableEntity>(accountId, image.RunId, cancellationToken: cancellationToken);
        return listed.HasValue && listed.Value is { } row ? image.ToRecord(row) : null;
    }
}
