using System.Text.Json;
using Azure.Data.Tables;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>A task's row in its run's partition, to and from <see cref="TaskRecord"/>; its output is kept by <see cref="StoredTexts"/>.</summary>
static class TaskEntities
{
    /// <summary>The task's fields as its row holds them, without the output.</summary>
    public static TableEntity ToEntity(string runId, TaskRecord task) => new(runId, task.TaskId)
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
