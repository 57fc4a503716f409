using System.Text.Json;
using System.Text.Json.Serialization;
using Orchflow.Domain;

namespace Orchflow.Planning;

/// <summary>
/// The JSON a model writes a plan in, and its parser. Parsing is strict about shape and lenient about nothing:
/// every problem becomes a message the model can be shown on its repair attempt.
/// </summary>
public static class PlanJson
{
    /// <summary>Answers larger than this are not parsed: no sensible plan of 20 tasks comes near it.</summary>
    public const int MaxLength = 64 * 1024;

    /// <summary>A plan is four levels deep (object, tasks, task, depends_on); the rest is room for ignored extras.</summary>
    const int MaxDepth = 8;

    const string FieldTypes = "task_id, name, description, kind, agent and prompt are strings, depends_on is an array of task ids";

    static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
        MaxDepth = MaxDepth,
        WriteIndented = false,
    };

    sealed record PlanDocument(List<TaskDocument?>? Tasks);

    sealed record TaskDocument(string? TaskId, string? Name, string? Description, string? Kind, string? Agent, List<string?>? DependsOn, string? Prompt);

    public static string Serialize(RunPlan plan) => JsonSerializer.Serialize(
        new PlanDocument(plan.Tasks.Select(t => (TaskDocument?)new TaskDocument(
            t.TaskId, t.Name, t.Description, t.Kind.ToWire(), t.Agent, t.DependsOn.Select(d => (string?)d).ToList(), t.Prompt)).ToList()),
        Options);

    /// <summary>Reads a model's answer; returns the tasks, or why they could not be read.</summary>
    public static (IReadOnlyList<PlannedTask>? Tasks, IReadOnlyList<string> Errors) Parse(string answer)
    {
        if (answer.Length > MaxLength)
        {
            return (null, [$"The answer is {answer.Length} characters long; a plan must fit in {MaxLength}."]);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(StripFence(answer), new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            // The reader's message says what is wrong ("invalid after a single JSON value", "maximum configured depth").
            return (null, [$"The answer is not valid JSON: {e.Message.Split(" LineNumber:")[0]} (line {e.LineNumber + 1})."]);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, [$"The answer is {Describe(root.ValueKind)}; it must be a JSON object with a \"tasks\" array."]);
            }

            if (!root.TryGetProperty("tasks", out var tasksElement))
            {
                return (null, ["The answer has no \"tasks\" array."]);
            }

            if (tasksElement.ValueKind != JsonValueKind.Array)
            {
                return (null, [$"\"tasks\" is {Describe(tasksElement.ValueKind)}; it must be an array of task objects."]);
            }

            var errors = new List<string>();
            var tasks = new List<PlannedTask>();
            foreach (var (element, i) in tasksElement.EnumerateArray().Select((e, i) => (e, i)))
            {
                if (ReadTask(element, $"tasks[{i}]", errors) is { } task)
                {
                    tasks.Add(task);
                }
            }

            return errors.Count == 0 ? (tasks, errors) : (null, errors);
        }
    }

    static PlannedTask? ReadTask(JsonElement element, string at, List<string> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{at} is {Describe(element.ValueKind)}; each task must be an object.");
            return null;
        }

        TaskDocument task;
        try
        {
            task = element.Deserialize<TaskDocument>(Options)!;
        }
        catch (JsonException e)
        {
            // The path is relative to the task ("$.depends_on"), so it names the field for the model.
            errors.Add($"{at}{e.Path?.TrimStart('$')} has the wrong type: {FieldTypes}.");
            return null;
        }

        if (string.IsNullOrWhiteSpace(task.TaskId) || string.IsNullOrWhiteSpace(task.Name))
        {
            errors.Add($"{at} needs a task_id and a name.");
            return null;
        }

        TaskKind kind;
        try
        {
            kind = WireNames.Parse<TaskKind>(task.Kind?.Trim().ToLowerInvariant() ?? "agent");
        }
        catch (FormatException)
        {
            errors.Add($"{at} ({task.TaskId}) has kind \"{task.Kind}\"; use \"agent\" or \"human\".");
            return null;
        }

        return new PlannedTask(
            task.TaskId.Trim(),
            task.Name.Trim(),
            task.Description?.Trim() ?? "",
            kind,
            kind == TaskKind.Agent && !string.IsNullOrWhiteSpace(task.Agent) ? task.Agent.Trim().ToLowerInvariant() : null,
            (task.DependsOn ?? []).Where(d => !string.IsNullOrWhiteSpace(d)).Select(d => d!.Trim()).Distinct().ToList(),
            kind == TaskKind.Human ? task.Prompt?.Trim() : null);
    }

    static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    /// <summary>Models often wrap JSON in a Markdown code fence even when told not to.</summary>
    static string StripFence(string answer)
    {
        var text = answer.Trim();
        if (!text.StartsWith("```", StringComparison.Ordinal))
        {
            return text;
        }

        var firstLine = text.IndexOf('\n');
        var lastFence = text.LastIndexOf("```", StringComparison.Ordinal);
        return firstLine > 0 && lastFence > firstLine ? text[(firstLine + 1)..lastFence].Trim() : text;
    }
}
