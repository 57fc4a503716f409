using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>Row keys of a run's partition of the RunTasks table (partition key: the run id).</summary>
static class RunRows
{
    /// <summary>What never changes about a run: its owner, definition and creation.</summary>
    public const string Head = "~run";

    /// <summary>The run's status, usage and error, and the counters every write moves: its version and last event.</summary>
    public const string Status = "~status";

    public const string FinalOutput = "~final";

    /// <summary>Planning notes (a plan repaired or replaced), one row each.</summary>
    public const string NotePrefix = "~event~";

    /// <summary>The event log. It sorts after every other row, so reading a run is one range that stops before it.</summary>
    public const string LogPrefix = "~~log~";

    public const string EndOfRun = "~~";

    public static string Log(long sequence) => LogPrefix + sequence.ToString("D10");

    /// <summary>Task rows are keyed by task id (T1, T2, …); every other row has a '~' in its key.</summary>
    public static bool IsTask(string rowKey) => !rowKey.Contains('~');
}

/// <summary>Which task rows a change needs to see.</summary>
enum TaskScope
{
    None,
    One,
    All,
}

/// <summary>A run's partition as a change reads it: the status row's fields and the tasks asked for, with their ETags.</summary>
sealed record PartitionState(
    string RunId,
    string? AccountId,
    RunStatus Status,
    TokenUsage Usage,
    string? Error,
    string? PlannedBy,
    long Version,
    long Sequence,
    ETag? StatusETag,
    IReadOnlyList<TaskRecord> Tasks,
    bool AwaitingPlanReview = false,
    int PlanRound = 0,
    int PlannedRound = -1,
    bool PlanApproved = false,
    int Attempt = 0)
{
    public bool Exists => AccountId is not null;

    public TaskRecord? Task(string taskId) => Tasks.FirstOrDefault(t => t.TaskId == taskId);
}

/// <summary>What one change writes. Events for every task state and run status it changes are added when it is committed.</summary>
sealed class PartitionChange
{
    public RunStatus? Status { get; init; }
    public TokenUsage? Usage { get; init; }
    public string? Error { get; init; }
    public string? PlannedBy { get; init; }
    public bool? AwaitingPlanReview { get; init; }
    public int? PlanRound { get; init; }
    public int? PlannedRound { get; init; }
    public bool? PlanApproved { get; init; }
    public int? Attempt { get; init; }

    /// <summary>The run's error goes (a retry starts it again clean).</summary>
    public bool ClearError { get; init; }

    /// <summary>Tasks removed from the plan (a reviewer's edit, a new plan after feedback).</summary>
    public List<TaskRecord> Removed { get; } = [];

    /// <summary>Tasks whose state fields (state, started, completed, error) change, merged onto their rows.</summary>
    public List<TaskRecord> States { get; } = [];

    /// <summary>Tasks written whole, as their rows: replaced as read (by ETag), or added when new.</summary>
    public List<(TaskRecord Task, TableEntity Row)> Rows { get; } = [];

    /// <summary>Other rows, replaced or added: the final output, planning notes.</summary>
    public List<TableEntity> Extra { get; } = [];

    /// <summary>Events that no state change implies (run.planned), logged before the ones derived.</summary>
    public List<NewLogEntry> Events { get; } = [];
}

/// <summary>
/// The one way a run's partition is written. Each change is read, decided and committed in one batch with the status
/// row (guarded by its ETag, its version and event sequence moved on) and the events announcing the change, so a reader
/// never sees a state without its event or an event without its state, and events are numbered without gaps. A
/// concurrent writer makes the batch fail as a whole; the change is then read and decided again. An outbox, when
/// there is one, is told of the events before the batch is submitted and after it landed (webhooks). Every landed
/// write tells <see cref="RunMarks"/> where the run now stands.
/// </summary>
sealed class RunPartition(OrchflowTables tables, TimeProvider clock, IEnumerable<IRunLogObserver> observers, IRunLogOutbox? outbox, RunMarks marks)
    : IDisposable
{
    public const int MaxAttempts = 16;

    readonly RememberedPartitions remembered = new();

    /// <summary>The account listing's copy of each run, brought up to the partition when a change moves what it shows.</summary>
    public ListingRows Listing { get; } = new(tables);


    /// <summary>Task row columns a change reads: everything but the output, which changes never need.</summary>
    static readonly string[] StateColumns =
    [
        "RowKey", "AccountId", "Status", "Error", "InputTokens", "OutputTokens", "PlannedBy", "Version", "Sequence",
        "AwaitingPlanReview", "PlanRound", "PlannedRound", "PlanApproved", "Attempt",
        "Name", "Description", "Kind", "Agent", "State", "DependsOn", "Prompt", "StartedAt", "CompletedAt", "WaitingSince", "ReviewRound", "Feedback",
    ];

    public async Task<T> CommitAsync<T>(
        string runId, TaskScope scope, string? taskId, Func<PartitionState, (PartitionChange? Change, T Result)> decide,
        CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var known = attempt == 0 ? remembered.For(runId, scope, taskId) : null;
            var state = known?.State ?? await ReadAsync(runId, scope, taskId, cancellationToken);
            var (change, result) = decide(state);
            if (change is null)
            {
                if (known is not null)
                {
                    // Nothing to write, or a conflict, seen in a remembered copy: the partition itself has the last word.
                    continue;
                }

                return result;
            }

            var now = clock.GetUtcNow();
            var (actions, entries, status, after) = Plan(state, change, now);
            var notice = await PrepareAsync(state.AccountId!, runId, entries, cancellationToken);
            Response<IReadOnlyList<Response>> written;
            try
            {
                written = await tables.RunTasks.SubmitTransactionAsync(actions, cancellationToken);
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                if (notice is not null)
                {
                    await outbox!.AbandonAsync(notice, cancellationToken);
                }

                // Another writer moved the run on since it was read (or remembered): read it again and decide again.
                remembered.Forget(runId);
                if (known is null)
                {
                    await Task.Delay(Random.Shared.Next(1, 6) * (attempt + 1), cancellationToken);
                }

                continue;
            }

            remembered.Wrote(state, known?.AllTasks ?? scope == TaskScope.All, actions, written.Value, status, after);

            marks.Saw(state.AccountId!, runId, MarkOf(status), marks.Now());
            if (notice is not null)
            {
                await outbox!.ConfirmAsync(notice, cancellationToken);
            }

            if (ListingRows.Changed(state, status))
            {
                await Listing.SyncAsync(state.AccountId!, runId, status, now, cancellationToken);
            }

            Tell(state.AccountId!, runId, entries);
            return result;
        }

        throw new InvalidOperationException($"Run {runId} kept changing while it was being written.");
    }

    /// <summary>Writes a new run's partition: its head, its status (queued) and the first event.</summary>
    public async Task CreateAsync(RunRecord run, TableEntity head, CancellationToken cancellationToken)
    {
        var status = StatusEntity(run.RunId, run.AccountId, run.Status, TokenUsage.Zero, null, null, version: 1, sequence: 1, run.CreatedAt);
        var queued = new RunLogEntry(1, EventTypes.RunQueued, run.CreatedAt, null, []);
        var notice = await PrepareAsync(run.AccountId, run.RunId, [queued], cancellationToken);
        await tables.RunTasks.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.Add, head),
            new TableTransactionAction(TableTransactionActionType.Add, status),
            new TableTransactionAction(TableTransactionActionType.Add, Entry(run.RunId, queued)),
        ], cancellationToken);
        marks.Saw(run.AccountId, run.RunId, MarkOf(status), marks.Now());
        if (notice is not null)
        {
            await outbox!.ConfirmAsync(notice, cancellationToken);
        }

        Tell(run.AccountId, run.RunId, [queued]);
    }

    /// <summary>Where a status row says its run stands.</summary>
    public static RunMark MarkOf(TableEntity status) =>
        new(status.GetInt64("Version") ?? 0, status.GetInt64("Sequence") ?? 0, WireNames.Parse<RunStatus>(status.GetString("Status")));

    Task<RunLogNotice?> PrepareAsync(string accountId, string runId, IReadOnlyList<RunLogEntry> entries, CancellationToken cancellationToken) =>
        outbox is null || entries.Count == 0 ? Task.FromResult<RunLogNotice?>(null) : outbox.PrepareAsync(accountId, runId, entries, cancellationToken);

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

    async Task<PartitionState> ReadAsync(string runId, TaskScope scope, string? taskId, CancellationToken cancellationToken)
    {
        var filter = scope switch
        {
            TaskScope.All => TableClient.CreateQueryFilter(
                $"PartitionKey eq {runId} and (RowKey eq {RunRows.Status} or RowKey eq {RunRows.Head} or (RowKey ge 'T' and RowKey lt 'U'))"),
            TaskScope.One => TableClient.CreateQueryFilter(
                $"PartitionKey eq {runId} and (RowKey eq {RunRows.Status} or RowKey eq {RunRows.Head} or RowKey eq {taskId})"),
            _ => TableClient.CreateQueryFilter($"PartitionKey eq {runId} and (RowKey eq {RunRows.Status} or RowKey eq {RunRows.Head})"),
        };
        var rows = new List<TableEntity>();
        await foreach (var row in tables.RunTasks.QueryAsync<TableEntity>(filter, select: StateColumns, cancellationToken: cancellationToken))
        {
            rows.Add(row);
        }

        var state = StateOf(runId, rows);
        remembered.Remember(state, allTasks: scope == TaskScope.All);
        return state;
    }

    /// <summary>A partition's state from its rows as read: the status, the head and the task rows (texts are not kept).</summary>
    public static PartitionState StateOf(string runId, IEnumerable<TableEntity> rows)
    {
        TableEntity? head = null, status = null;
        var tasks = new List<TaskRecord>();
        foreach (var row in rows)
        {
            switch (row.RowKey)
            {
                case RunRows.Head:
                    head = row;
                    break;
                case RunRows.Status:
                    status = row;
                    break;
                default:
                    if (RunRows.IsTask(row.RowKey))
                    {
                        tasks.Add(TaskEntities.ToTask(row, output: null));
                    }

                    break;
            }
        }

        tasks.Sort((a, b) => TaskIds.Order.Compare(a.TaskId, b.TaskId));
        var source = status ?? head;
        return new PartitionState(
            runId,
            status?.GetString("AccountId") ?? head?.GetString("AccountId"),
            source is null ? RunStatus.Queued : WireNames.Parse<RunStatus>(source.GetString("Status")),
            new TokenUsage(status?.GetInt64("InputTokens") ?? 0, status?.GetInt64("OutputTokens") ?? 0),
            status?.GetString("Error"),
            status?.GetString("PlannedBy"),
            status?.GetInt64("Version") ?? 0,
            status?.GetInt64("Sequence") ?? 0,
            status?.ETag,
            tasks,
            status?.GetBoolean("AwaitingPlanReview") ?? false,
            status?.GetInt32("PlanRound") ?? 0,
            status?.GetInt32("PlannedRound") ?? (tasks.Count > 0 ? 0 : -1),
            status?.GetBoolean("PlanApproved") ?? false,
            status?.GetInt32("Attempt") ?? 0);
    }

    /// <summary>The partition as read whole by a reader of the run: remembered for the next change.</summary>
    public void Read(string runId, IEnumerable<TableEntity> rows) => remembered.Remember(StateOf(runId, rows), allTasks: true);

    public void Dispose()
    {
        remembered.Dispose();
        Listing.Dispose();
    }


    (List<TableTransactionAction> Actions, List<RunLogEntry> Entries, TableEntity Status, IReadOnlyList<TaskRecord> After) Plan(
        PartitionState state, PartitionChange change, DateTimeOffset now)
    {
        var actions = new List<TableTransactionAction>();
        var after = state.Tasks.ToDictionary(t => t.TaskId);
        foreach (var task in change.States)
        {
            var read = state.Task(task.TaskId) ?? throw new InvalidOperationException($"Run {state.RunId} has no task {task.TaskId}.");
            actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateMerge, TaskEntities.StateEntity(state.RunId, task), read.ETag is null ? ETag.All : new ETag(read.ETag)));
            after[task.TaskId] = task;
        }

        foreach (var (task, row) in change.Rows)
        {
            var read = state.Task(task.TaskId);
            actions.Add(read is null
                ? new TableTransactionAction(TableTransactionActionType.Add, row)
                : new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, new ETag(read.ETag!)));
            after[task.TaskId] = task;
        }

        foreach (var task in change.Removed)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(state.RunId, task.TaskId), new ETag(task.ETag!)));
            after.Remove(task.TaskId);
        }

        actions.AddRange(change.Extra.Select(row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row)));

        var newStatus = change.Status ?? state.Status;
        var error = change.ClearError ? null : change.Error ?? state.Error;
        var awaiting = change.AwaitingPlanReview ?? state.AwaitingPlanReview;
        var before = new RunSnapshot(state.Status, state.Tasks, state.Error, state.AwaitingPlanReview);
        var afterTasks = after.Values.OrderBy(t => t.TaskId, TaskIds.Order).ToList();
        var derived = RunLog.Between(before, new RunSnapshot(newStatus, afterTasks, error, awaiting));
        var entries = change.Events.Concat(derived)
            .Select((e, i) => new RunLogEntry(state.Sequence + 1 + i, e.Type, now, e.TaskId, e.Data))
            .ToList();
        actions.AddRange(entries.Select(e => new TableTransactionAction(TableTransactionActionType.Add, Entry(state.RunId, e))));

        var status = StatusEntity(state.RunId, state.AccountId!, newStatus, change.Usage ?? state.Usage, error,
            change.PlannedBy ?? state.PlannedBy, state.Version + 1, state.Sequence + entries.Count, now);
        status["AwaitingPlanReview"] = awaiting;
        status["PlanRound"] = change.PlanRound ?? state.PlanRound;
        status["PlannedRound"] = change.PlannedRound ?? state.PlannedRound;
        status["PlanApproved"] = change.PlanApproved ?? state.PlanApproved;
        status["Attempt"] = change.Attempt ?? state.Attempt;
        actions.Add(state.StatusETag is { } etag
            ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, status, etag)
            : new TableTransactionAction(TableTransactionActionType.Add, status));
        if (actions.Count > 100)
        {
            throw new InvalidOperationException($"A change of run {state.RunId} needs {actions.Count} writes; one batch holds 100.");
        }

        return (actions, entries, status, afterTasks);
    }


    static TableEntity StatusEntity(
        string runId, string accountId, RunStatus status, TokenUsage usage, string? error, string? plannedBy, long version, long sequence,
        DateTimeOffset now) => new(runId, RunRows.Status)
    {
        ["AccountId"] = accountId,
        ["Status"] = status.ToWire(),
        ["InputTokens"] = usage.InputTokens,
        ["OutputTokens"] = usage.OutputTokens,
        ["Error"] = error,
        ["PlannedBy"] = plannedBy,
        ["Version"] = version,
        ["Sequence"] = sequence,
        ["UpdatedAt"] = now,
    };

    static TableEntity Entry(string runId, RunLogEntry entry) => new(runId, RunRows.Log(entry.Sequence))
    {
        ["Type"] = entry.Type,
        ["TaskId"] = entry.TaskId,
        ["Data"] = entry.Data.ToJsonString(),
        ["CreatedAt"] = entry.CreatedAt,
    };

    public static RunLogEntry ToEntry(TableEntity row) => new(
        long.Parse(row.RowKey.AsSpan(RunRows.LogPrefix.Length)),
        row.GetString("Type") ?? "",
        row.GetDateTimeOffset("CreatedAt") ?? row.Timestamp ?? DateTimeOffset.MinValue,
        row.GetString("TaskId"),
        JsonNode.Parse(row.GetString("Data") ?? "{}") as JsonObject ?? []);
}
