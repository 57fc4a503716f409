using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// The one way a run's partition is written. A change is decided (by the caller's <see cref="RunDecider"/>, on the run
/// as this process last knew it, or as read) and committed in one batch with the status row, guarded by the ETags of
/// the rows it was decided on, and with the events announcing it, so a reader never sees a state without its event or
/// an event without its state, and events are numbered without gaps. This process's writers of one run take turns
/// (<see cref="RunGates"/>); a writer in another process makes the batch fail as a whole, and the run is then read and
/// the change decided again. An outbox, when there is one, is told of the events
/// before the batch is submitted and after it landed (webhooks); this process's observers (live streams) after.
/// </summary>
sealed class RunPartition(OrchflowTables tables, TimeProvider clock, IEnumerable<IRunLogObserver> observers, IRunLogOutbox? outbox, KnownRuns known)
{
    public const int MaxAttempts = 16;

    /// <summary>This process's writers of a run, one at a time.</summary>
    readonly RunGates gates = new();

    /// <summary>The account listing's copy of each run, brought up to the partition when a change moves what it shows.</summary>
    public ListingRows Listing { get; } = new(tables, known, clock);

    /// <summary>
    /// Decides a change of the account's run and persists it. Null when the account has no such run. A decision that
    /// writes nothing, or refuses, on the run as remembered is made again on the run as read: the partition has the
    /// last word.
    /// </summary>
    public async Task<(RunState Before, Decision Decision, RunImage After)?> CommitAsync(
        string accountId, string runId, RunDecider decide, CancellationToken cancellationToken)
    {
        using var turn = await gates.EnterAsync(runId, cancellationToken);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var remembered = attempt == 0 ? known.Image(runId) : null;
            var image = remembered ?? await ReadAsync(runId, cancellationToken);
            if (image.State is not { } before || before.AccountId != accountId)
            {
                // An owner never changes: a remembered run of another account is not the caller's either.
                return null;
            }

            var now = clock.GetUtcNow();
            var decision = decide(before, now);
            if (!decision.Writes)
            {
                if (remembered is not null)
                {
                    continue;
                }

                return (before, decision, image);
            }

            var write = PartitionWrite.Of(image, decision, now);
            foreach (var chunk in write.Chunks)
            {
                await tables.RunTasks.UpsertEntityAsync(chunk, TableUpdateMode.Replace, cancellationToken);
            }

            var notice = await PrepareAsync(accountId, runId, write.Entries, cancellationToken);
            Response<IReadOnlyList<Response>> landed;
            try
            {
                landed = await tables.RunTasks.SubmitTransactionAsync(write.Actions, cancellationToken);
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                // Another writer moved the run on since it was read (or remembered): read it again and decide again.
                await AbandonAsync(notice, write, cancellationToken);
                known.Forget(runId);
                if (remembered is null)
                {
                    await Task.Delay(Random.Shared.Next(1, 6) * (attempt + 1), cancellationToken);
                }

                continue;
            }

            var after = image.With(write.Written(landed.Value), write.Deleted);
            known.Wrote(after);

            // Told as soon as the batch landed, before the listing's write: a live stream of this run that probes the log
            // meanwhile for events logged elsewhere would otherwise find these in storage and read them again.
            Tell(accountId, runId, write.Entries);
            if (notice is not null)
            {
                await outbox!.ConfirmAsync(notice, cancellationToken);
            }

            if (ListingRows.Changed(before, after.State!))
            {
                await Listing.SyncAsync(accountId, runId, after, now, ListingRows.TokensOnly(before, after.State!), cancellationToken);
            }

            return (before, decision, after);
        }

        throw new InvalidOperationException($"Run {runId} kept changing while it was being written.");
    }

    /// <summary>Writes a new run's partition: its head, its status (queued) and the first event.</summary>
    public async Task CreateAsync(RunRecord run, TableEntity head, CancellationToken cancellationToken)
    {
        var state = new RunState
        {
            RunId = run.RunId,
            AccountId = run.AccountId,
            Status = run.Status,
            RequirePlanApproval = run.Definition.RequirePlanApproval,
            Budget = run.Definition.Budget ?? RunBudget.None,
        };
        var status = RunRows.StatusRow(state, version: 1, sequence: 1, run.CreatedAt);
        var queued = new RunLogEntry(1, EventTypes.RunQueued, run.CreatedAt, null, []);
        var notice = await PrepareAsync(run.AccountId, run.RunId, [queued], cancellationToken);
        var landed = await tables.RunTasks.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.Add, head),
            new TableTransactionAction(TableTransactionActionType.Add, status),
            new TableTransactionAction(TableTransactionActionType.Add, RunRows.Entry(run.RunId, queued)),
        ], cancellationToken);
        head.ETag = landed.Value[0].Headers.ETag ?? default;
        status.ETag = landed.Value[1].Headers.ETag ?? default;
        known.Wrote(RunImage.Of(run.RunId, [head, status]));
        if (notice is not null)
        {
            await outbox!.ConfirmAsync(notice, cancellationToken);
        }

        Tell(run.AccountId, run.RunId, [queued]);
    }

    /// <summary>
    /// Deletes what <see cref="CreateAsync"/> wrote, for a start that failed after it: a run never listed is found by no
    /// erasure, so none of its rows (its goal among them) may stay behind.
    /// </summary>
    public async Task UndoCreateAsync(string runId, CancellationToken cancellationToken)
    {
        known.Forget(runId);
        await tables.RunTasks.SubmitTransactionAsync(
            new[] { RunRows.Head, RunRows.Status, RunRows.Log(1) }.Select(key =>
                new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(runId, key) { ETag = ETag.All })),
            cancellationToken);
    }

    /// <summary>The partition read whole but for its log (one range query), and remembered as this process's image of the run.</summary>
    public async Task<RunImage> ReadAsync(string runId, CancellationToken cancellationToken)
    {
        var stamp = known.Now();
        var rows = new List<TableEntity>();
        await foreach (var row in tables.RunTasks.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {runId} and RowKey lt {RunRows.EndOfRun}"),
                           cancellationToken: cancellationToken))
        {
            rows.Add(row);
        }

        var image = RunImage.Of(runId, rows);
        known.Read(image, stamp);
        return image;
    }

    Task<RunLogNotice?> PrepareAsync(string accountId, string runId, IReadOnlyList<RunLogEntry> entries, CancellationToken cancellationToken) =>
        outbox is null || entries.Count == 0 ? Task.FromResult<RunLogNotice?>(null) : outbox.PrepareAsync(accountId, runId, entries, cancellationToken);

    async Task AbandonAsync(RunLogNotice? notice, PartitionWrite write, CancellationToken cancellationToken)
    {
        if (notice is not null)
        {
            await outbox!.AbandonAsync(notice, cancellationToken);
        }

        // The row that won points at its own chunks; these are nobody's.
        foreach (var chunk in write.Chunks)
        {
            await tables.RunTasks.DeleteEntityAsync(write.RunId, chunk.RowKey, ETag.All, cancellationToken);
        }
    }

    void Tell(string accountId, string runId, IReadOnlyList<RunLogEntry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        foreach (var observer in observers)
        {
            observer.Logged(accountId, runId, entries);
        }
    }
}
