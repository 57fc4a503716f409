using System.Text.Json;
using Azure.Data.Tables;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// A task's row in its run's partition, and its tool calls' rows beside it, to and from <see cref="TaskRecord"/> and
/// <see cref="ToolCall"/>; outputs and results are kept by <see cref="StoredTexts"/>.
/// </summary>
static class TaskEntities
{
    /// <summary>The task's fields as its row holds them, without the output.</summary>
    public static TableEntity ToEntity(string runId, TaskRecord task)
    {
        var row = Row(runId, task);
        // A form and its answer are bounded, yet may outgrow one property: each takes as many as it needs.
        if (task.InputSchema is { } schema)
        {
            TextChunks.SetProperty(row, "InputSchema", schema);
        }

        if (task.Input is { } input)
        {
            TextChunks.SetProperty(row, "Input", input);
        }

        return row;
    }

    static TableEntity Row(string runId, TaskRecord task) => new(runId, task.TaskId)
    {
        ["Name"] = task.Name,
        ["Description"] = task.Description,
        ["Kind"] = task.Kind.ToWire(),
        ["Agent"] = task.Agent,
        ["State"] = task.State.ToWire(),
        ["DependsOn"] = JsonSerializer.Serialize(task.DependsOn),
        ["Prompt"] = task.Prompt,
        ["Error"] = task.Error,
        ["InputTokens"] = task.Usage.InputTokens,
        ["OutputTokens"] = task.Usage.OutputTokens,
        ["StartedAt"] = task.StartedAt,
        ["CompletedAt"] = task.CompletedAt,
        ["WaitingSince"] = task.WaitingSince,
        ["ReviewRound"] = task.ReviewRound,
        ["Feedback"] = task.Feedback,
    };

    /// <summary>A tool call's row, without its result (kept by <see cref="StoredTexts"/>).</summary>
    public static TableEntity ToEntity(string runId, string taskId, int index, ToolCall call) => new(runId, RunRows.Call(taskId, index))
    {
        ["CallId"] = call.CallId,
        ["Step"] = call.Step,
        ["ModelCallId"] = call.ModelCallId,
        ["Tool"] = call.Tool,
        ["Arguments"] = call.Arguments,
        ["State"] = call.State.ToWire(),
        ["NeedsApproval"] = call.NeedsApproval,
        ["Approved"] = call.Approved,
        ["Dispatched"] = call.Dispatched,
        ["Error"] = call.Error,
        ["Feedback"] = call.Feedback,
        ["InputSchema"] = call.InputSchema,
        ["StartedAt"] = call.StartedAt,
        ["CompletedAt"] = call.CompletedAt,
    };

    public static ToolCall ToCall(TableEntity e, string? result) => new()
    {
        CallId = e.GetString("CallId") ?? "",
        Step = e.GetInt32("Step") ?? 0,
        ModelCallId = e.GetString("ModelCallId") ?? "",
        Tool = e.GetString("Tool") ?? "",
        Arguments = e.GetString("Arguments") ?? "{}",
        State = WireNames.Parse<ToolCallState>(e.GetString("State") ?? "failed"),
        NeedsApproval = e.GetBoolean("NeedsApproval") ?? false,
        Approved = e.GetBoolean("Approved") ?? false,
        Dispatched = e.GetBoolean("Dispatched") ?? false,
        Result = result,
        Error = e.GetString("Error"),
        Feedback = e.GetString("Feedback"),
        InputSchema = e.GetString("InputSchema"),
        StartedAt = e.GetDateTimeOffset("StartedAt") ?? DateTimeOffset.MinValue,
        CompletedAt = e.GetDateTimeOffset("CompletedAt"),
    };

    public static TaskRecord ToTask(TableEntity e, string? output) => new()
    {
        TaskId = e.RowKey,
        Name = e.GetString("Name") ?? "",
        Description = e.GetString("Description") ?? "",
        Kind = WireNames.Parse<TaskKind>(e.GetString("Kind")),
        Agent = e.GetString("Agent"),
        State = WireNames.Parse<TaskState>(e.GetString("State")),
        DependsOn = JsonSerializer.Deserialize<List<string>>(e.GetString("DependsOn") ?? "[]") ?? [],
        Prompt = e.GetString("Prompt"),
        InputSchema = TextChunks.GetProperty(e, "InputSchema"),
        Input = TextChunks.GetProperty(e, "Input"),
        Output = output,
        Error = e.GetString("Error"),
        Usage = new TokenUsage(e.GetInt64("InputTokens") ?? 0, e.GetInt64("OutputTokens") ?? 0),
        StartedAt = e.GetDateTimeOffset("StartedAt"),
        CompletedAt = e.GetDateTimeOffset("CompletedAt"),
        WaitingSince = e.GetDateTimeOffset("WaitingSince"),
        ReviewRound = e.GetInt32("ReviewRound") ?? 0,
        Feedback = e.GetString("Feedback"),
    };
}
