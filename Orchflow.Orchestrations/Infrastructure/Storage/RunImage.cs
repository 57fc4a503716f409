using System.Text.Json;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// A run's partition as this process last read or wrote it: every row but the event log, each with its ETag. It is
/// what a change is decided on (<see cref="State"/>), what a read of the run serves (<see cref="Record"/>), and what a
/// write starts from, so the run as written and the run as read are one mapping of the same rows. Never changed in
/// place: a landed write makes a new image (<see cref="With"/>).
/// </summary>
public sealed class RunImage
{
    readonly Dictionary<string, TableEntity> rows;
    readonly Lazy<RunState?> state;
    readonly Lazy<RunRecord?> record;

    RunImage(string runId, Dictionary<string, TableEntity> rows)
    {
        RunId = runId;
        this.rows = rows;
        var status = rows.GetValueOrDefault(RunRows.Status);
        var head = rows.GetValueOrDefault(RunRows.Head);
        AccountId = status?.GetString("AccountId") ?? head?.GetString("AccountId");
        Mark = status is not null ? RunRows.MarkOf(status)
            : head is not null ? new RunMark(0, 0, WireNames.Parse<RunStatus>(head.GetString("Status")))
            : new RunMark(0, 0, RunStatus.Queued);
        Size = 512 + rows.Values.Sum(StoredTexts.Length) + (head is null ? 0 : TextChunks.GetProperty(head, "Definition")?.Length ?? 0);
        state = new Lazy<RunState?>(() => AccountId is null ? null : ToState());
        record = new Lazy<RunRecord?>(() => State is null || Row(RunRows.Head) is not { } h ? null : ToRecord(h));
    }

    /// <summary>The image of a partition from the rows read of it (the log's rows are left out).</summary>
    public static RunImage Of(string runId, IEnumerable<TableEntity> read) =>
        new(runId, read.Where(r => !r.RowKey.StartsWith(RunRows.EndOfRun, StringComparison.Ordinal)).ToDictionary(r => r.RowKey, StringComparer.Ordinal));

    public string RunId { get; }

    /// <summary>The run's owner; null when the partition holds no run.</summary>
    public string? AccountId { get; }

    public RunMark Mark { get; }

    public long Version => Mark.Version;

    /// <summary>Roughly the characters this image keeps in memory: what it counts against the memory's bound.</summary>
    public long Size { get; }

    /// <summary>The run as its changes are decided on; null when the partition holds no run.</summary>
    public RunState? State => state.Value;

    public TableEntity? Row(string rowKey) => rows.GetValueOrDefault(rowKey);

    /// <summary>The run as its owner reads it; null when the partition holds no run or lacks its head (see the store's fallback).</summary>
    public RunRecord? Record => record.Value;

    /// <summary>The run as read, from its head or its listing row (whose keys are the run id and "~run", or the account and the run id).</summary>
    public RunRecord ToRecord(TableEntity head)
    {
        var run = FromRow(head, AccountId ?? head.PartitionKey, RunId);
        if (State is not { } s)
        {
            return run;
        }

        var status = Row(RunRows.Status);
        var final = Row(RunRows.FinalOutput);
        return run with
        {
            Status = s.Status,
            Error = s.Error ?? run.Error,
            Usage = status is null ? run.Usage : s.Usage,
            PlannedBy = s.PlannedBy ?? run.PlannedBy,
            UpdatedAt = status?.GetDateTimeOffset("UpdatedAt") ?? run.UpdatedAt,
            Version = Mark.Version,
            Sequence = Mark.Sequence,
            AwaitingPlanReview = s.AwaitingPlanReview,
            PlanRound = s.PlanRound,
            PlannedRound = s.PlannedRound,
            PlanApproved = s.PlanApproved,
            Attempt = s.Attempt,
            Budget = s.Budget,
            AwaitingBudget = s.AwaitingBudget,
            Tasks = TaskRows().Select(r => TaskEntities.ToTask(r, StoredTexts.Read(r, rows)) with { ToolCalls = Calls(r.RowKey, texts: true) }).ToList(),
            FinalOutput = final is null ? null : StoredTexts.Read(final, rows),
            Events = rows.Values
                .Where(r => r.RowKey.StartsWith(RunRows.NotePrefix, StringComparison.Ordinal))
                .Select(r => new RunEvent(r.RowKey[RunRows.NotePrefix.Length..], r.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue,
                    r.GetString("Kind") ?? "", r.GetString("Message") ?? ""))
                .OrderBy(e => e.At)
                .ToList(),
        };
    }

    /// <summary>The image after a write landed: the rows it wrote (with the ETags it was answered) in place, the rows it deleted gone.</summary>
    public RunImage With(IEnumerable<TableEntity> written, IEnumerable<string> deleted)
    {
        var next = new Dictionary<string, TableEntity>(rows, StringComparer.Ordinal);
        foreach (var key in deleted)
        {
            next.Remove(key);
        }

        foreach (var row in written)
        {
            next[row.RowKey] = row;
        }

        return new RunImage(RunId, next);
    }

    /// <summary>Task rows in plan order (T1, T2, … T10).</summary>
    public IEnumerable<TableEntity> TaskRows() =>
        rows.Values.Where(r => RunRows.IsTask(r.RowKey)).OrderBy(r => r.RowKey, TaskIds.Order);

    /// <summary>A task's tool calls in the order asked, with their results when <paramref name="texts"/> (a read) and without (a decision).</summary>
    List<ToolCall> Calls(string taskId, bool texts) => CallRows(taskId)
        .Select(r => TaskEntities.ToCall(r, texts ? StoredTexts.Read(r, rows) : null))
        .ToList();

    /// <summary>A task's tool call rows, in the order asked.</summary>
    public IEnumerable<TableEntity> CallRows(string taskId) =>
        rows.Values.Where(r => RunRows.IsCall(r.RowKey, out var owner) && owner == taskId).OrderBy(r => r.RowKey, StringComparer.Ordinal);

    RunState ToState()
    {
        var status = Row(RunRows.Status);
        var head = Row(RunRows.Head);
        var tasks = TaskRows().Select(r => TaskEntities.ToTask(r, output: null) with { ToolCalls = Calls(r.RowKey, texts: false) }).ToList();
        return new RunState
        {
            RunId = RunId,
            AccountId = AccountId!,
            Status = Mark.Status,
            Tasks = tasks,
            Usage = new TokenUsage(status?.GetInt64("InputTokens") ?? 0, status?.GetInt64("OutputTokens") ?? 0),
            Error = status?.GetString("Error"),
            PlannedBy = status?.GetString("PlannedBy"),
            Attempt = status?.GetInt32("Attempt") ?? 0,
            // Runs written before the status row carried it: their definition says.
            RequirePlanApproval = status?.GetBoolean("RequirePlanApproval") ?? (head is not null && Definition(head).RequirePlanApproval),
            AwaitingPlanReview = status?.GetBoolean("AwaitingPlanReview") ?? false,
            PlanRound = status?.GetInt32("PlanRound") ?? 0,
            PlannedRound = status?.GetInt32("PlannedRound") ?? (tasks.Count > 0 ? 0 : -1),
            PlanApproved = status?.GetBoolean("PlanApproved") ?? false,
            Budget = new RunBudget(status?.GetInt64("BudgetTokens"), status?.GetInt32("BudgetToolCalls")),
            AwaitingBudget = status?.GetBoolean("AwaitingBudget") ?? false,
            BudgetRound = status?.GetInt32("BudgetRound") ?? 0,
        };
    }

    /// <summary>What a head or listing row holds of its run.</summary>
    static RunRecord FromRow(TableEntity e, string accountId, string runId) => new()
    {
        RunId = runId,
        AccountId = accountId,
        Status = WireNames.Parse<RunStatus>(e.GetString("Status")),
        Definition = Definition(e),
        Error = e.GetString("Error") is { Length: > 0 } error ? error : null,
        Usage = new TokenUsage(e.GetInt64("InputTokens") ?? 0, e.GetInt64("OutputTokens") ?? 0),
        PlannedBy = e.GetString("PlannedBy"),
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? e.Timestamp ?? DateTimeOffset.MinValue,
        UpdatedAt = e.GetDateTimeOffset("UpdatedAt") ?? e.Timestamp ?? DateTimeOffset.MinValue,
    };

    /// <summary>A listing row as a run: what a listing shows of it.</summary>
    public static RunRecord Listed(TableEntity e) => FromRow(e, e.PartitionKey, e.RowKey);

    static RunDefinition Definition(TableEntity e) =>
        JsonSerializer.Deserialize<RunDefinition>(TextChunks.GetProperty(e, "Definition") ?? "null")
        ?? throw new InvalidOperationException($"Run {e.RowKey} has no definition.");
}
