using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// The rows of a run's partition of the RunTasks table (partition key: the run id), and the one mapping of its status
/// row and its log entries to and from what they hold.
/// </summary>
static class RunRows
{
    /// <summary>What never changes about a run: its owner, definition and creation.</summary>
    public const string Head = "~run";

    /// <summary>The run's status, usage, error, plan review and attempt, and the counters every write moves: its version and last event.</summary>
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

    const string CallInfix = "~call~";

    /// <summary>The row of a task's <paramref name="index"/>th tool call (from 1): they sort in the order asked.</summary>
    public static string Call(string taskId, int index) => $"{taskId}{CallInfix}{index:D3}";

    /// <summary>Whether the row is a tool call's own (its result's chunk rows have more to their keys), and whose.</summary>
    public static bool IsCall(string rowKey, out string taskId)
    {
        var at = rowKey.IndexOf(CallInfix, StringComparison.Ordinal);
        taskId = at > 0 ? rowKey[..at] : "";
        return at > 0 && IsTask(taskId) && !rowKey.AsSpan(at + CallInfix.Length).Contains('~');
    }

    /// <summary>The columns a point read of the status row selects to learn where the run stands and whose it is.</summary>
    public static readonly string[] MarkColumns = ["AccountId", "Status", "Version", "Sequence"];

    /// <summary>The status row of a run in <paramref name="state"/>, at its <paramref name="version"/> and last event <paramref name="sequence"/>.</summary>
    public static TableEntity StatusRow(RunState state, long version, long sequence, DateTimeOffset now) => new(state.RunId, Status)
    {
        ["AccountId"] = state.AccountId,
        ["Status"] = state.Status.ToWire(),
        ["InputTokens"] = state.Usage.InputTokens,
        ["OutputTokens"] = state.Usage.OutputTokens,
        ["Error"] = state.Error,
        ["PlannedBy"] = state.PlannedBy,
        ["Version"] = version,
        ["Sequence"] = sequence,
        ["UpdatedAt"] = now,
        ["Attempt"] = state.Attempt,
        ["RequirePlanApproval"] = state.RequirePlanApproval,
        ["AwaitingPlanReview"] = state.AwaitingPlanReview,
        ["PlanRound"] = state.PlanRound,
        ["PlannedRound"] = state.PlannedRound,
        ["PlanApproved"] = state.PlanApproved,
        ["BudgetTokens"] = state.Budget.MaxTokens,
        ["BudgetToolCalls"] = state.Budget.MaxToolCalls,
        ["AwaitingBudget"] = state.AwaitingBudget,
        ["BudgetRound"] = state.BudgetRound,
    };

    /// <summary>Where a status row says its run stands.</summary>
    public static RunMark MarkOf(TableEntity status) =>
        new(status.GetInt64("Version") ?? 0, status.GetInt64("Sequence") ?? 0, WireNames.Parse<RunStatus>(status.GetString("Status")));

    public static TableEntity Entry(string runId, RunLogEntry entry) => new(runId, Log(entry.Sequence))
    {
        ["Type"] = entry.Type,
        ["TaskId"] = entry.TaskId,
        ["Data"] = entry.Data.ToJsonString(),
        ["CreatedAt"] = entry.CreatedAt,
    };

    public static RunLogEntry ToEntry(TableEntity row) => new(
        long.Parse(row.RowKey.AsSpan(LogPrefix.Length)),
        row.GetString("Type") ?? "",
        row.GetDateTimeOffset("CreatedAt") ?? row.Timestamp ?? DateTimeOffset.MinValue,
        row.GetString("TaskId"),
        JsonNode.Parse(row.GetString("Data") ?? "{}") as JsonObject ?? []);
}
