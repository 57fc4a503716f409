using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;

namespace Orchflow.Functions.Mcp;

/// <summary>
/// A run's human tasks as MCP input requests, and MCP input responses as answers to them. Each task the run waits on is
/// one elicitation: a human task asks for its form's fields (its <c>input_schema</c>, or one <c>answer</c> text field
/// when it has none); a draft under review asks for <c>approved</c>, an edited <c>output</c> or <c>feedback</c>; a tool
/// call waiting for a person asks for <c>approved</c>, edited <c>arguments</c> or <c>feedback</c>. A response becomes the
/// body <c>POST /runs/{id}/tasks/{task}/complete</c> takes, and is checked by the same code.
/// </summary>
public static class InputRequests
{
    /// <summary>The field a human task without a form is answered in.</summary>
    public const string AnswerField = "answer";

    /// <summary>Every input request of <paramref name="run"/>, by key: the task id, then the review round or the tool call it is about.</summary>
    public static IReadOnlyDictionary<string, InputRequest> Of(RunRecord run) =>
        run.Tasks.Where(t => t.State == TaskState.WaitingHuman)
            .ToDictionary(KeyOf, t => InputRequest.ForElicitation(Elicitation(t)), StringComparer.Ordinal);

    /// <summary>
    /// The key of the request a waiting task is asked with: a new key for each new question (the next review round, the
    /// next tool call), so a client that drops keys it has already shown still shows the new one.
    /// </summary>
    public static string KeyOf(TaskRecord task) => task switch
    {
        { PendingToolCall: { } call } => $"{task.TaskId}.{call.CallId}",
        { Kind: TaskKind.Agent } => $"{task.TaskId}.review{task.ReviewRound}",
        _ => task.TaskId,
    };

    /// <summary>The task id a key names; null for a key no request of Orchflow's has.</summary>
    public static string? TaskIdOf(string key)
    {
        var taskId = key.Split('.', 2)[0];
        return taskId.Length > 1 && taskId[0] == 'T' && taskId[1..].All(char.IsAsciiDigit) ? taskId : null;
    }

    static ElicitRequestParams Elicitation(TaskRecord task) => new()
    {
        Message = Message(task),
        RequestedSchema = JsonSerializer.Deserialize(Schema(task), McpJsonUtilities.DefaultOptions.GetTypeInfo<ElicitRequestParams.RequestSchema>())!,
    };

    static string Message(TaskRecord task) => task switch
    {
        { PendingToolCall: { } call } =>
            $"Task {task.TaskId} ({task.Name}) asks to call the tool {call.Tool} with these arguments:\n{call.Arguments}\nLet it through, edit the arguments, or refuse it with a reason.",
        { Kind: TaskKind.Agent } =>
            $"Task {task.TaskId} ({task.Name}) wrote this draft for your review:\n\n{task.Output}\n\nApprove it, approve it with your edit in 'output', or send it back with feedback.",
        _ => task.Prompt is { Length: > 0 } prompt ? $"Task {task.TaskId} ({task.Name}): {prompt}" : $"Task {task.TaskId}: {task.Name}",
    };

    /// <summary>The form the task is answered with, in the subset of JSON Schema MCP elicitation allows.</summary>
    static string Schema(TaskRecord task)
    {
        if (task.PendingToolCall is not null)
        {
            return Form(
                ("approved", Boolean("Let the call through", "Yes: the call is made (with your edited arguments, if any). No: it is not, and the agent is told your feedback."), true),
                ("arguments", Text("Edited arguments", "The call's arguments as a JSON object, if you want them changed; leave empty to keep them."), false),
                ("feedback", Text("Feedback", "Why you refuse the call: the agent is told."), false));
        }

        if (task.Kind == TaskKind.Agent)
        {
            return Form(
                ("approved", Boolean("Approve the draft", "Yes: the draft (or your edit of it) is kept. No: the agent redoes it with your feedback."), true),
                ("output", Text("Edited draft", "Your edit of the draft, to approve it as edited; leave empty to keep it as written."), false),
                ("feedback", Text("Feedback", "What the agent should change when you send the draft back."), false));
        }

        return task.InputSchema ?? Form((AnswerField, Text("Answer", task.Prompt ?? task.Name), true));
    }

    static JsonObject Boolean(string title, string description) => new() { ["type"] = "boolean", ["title"] = title, ["description"] = description };

    static JsonObject Text(string title, string description) =>
        new() { ["type"] = "string", ["title"] = title, ["description"] = description, ["maxLength"] = Runs.TaskAnswers.MaxOutputLength };

    static string Form(params (string Name, JsonObject Schema, bool Required)[] fields) => new JsonObject
    {
        ["type"] = "object",
        ["properties"] = new JsonObject(fields.Select(f => KeyValuePair.Create(f.Name, (JsonNode?)f.Schema))),
        ["required"] = new JsonArray(fields.Where(f => f.Required).Select(f => (JsonNode?)f.Name).ToArray()),
    }.ToJsonString();

    /// <summary>
    /// What a client's response to the request <paramref name="key"/> asks of <paramref name="task"/>, as the body of
    /// <c>POST …/complete</c>; null when it answers nothing (a person who dismissed the request: the task keeps waiting).
    /// </summary>
    public static CompleteTaskRequest? Answer(TaskRecord task, JsonElement response)
    {
        var action = response.TryGetProperty("action", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        var content = response.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.Object
            ? JsonNode.Parse(c.GetRawText())!.AsObject()
            : new JsonObject();
        var verdict = task.Kind == TaskKind.Agent || task.PendingToolCall is not null;
        switch (action)
        {
            case "accept":
                break;
            case "decline" when verdict:
                // Declining a draft or a call is refusing it; the feedback the form holds, if any, goes with it.
                return new CompleteTaskRequest(null, false, Text(content, "feedback"), null);
            default:
                return null;
        }

        if (task.PendingToolCall is not null)
        {
            var approved = Bool(content, "approved");
            return new CompleteTaskRequest(null, approved, approved == false ? Text(content, "feedback") : null, Arguments(content));
        }

        if (task.Kind == TaskKind.Agent)
        {
            var approved = Bool(content, "approved");
            var edited = Text(content, "output");
            // An edit approves the draft as edited: the API's {"output": "…"}, with no verdict beside it.
            return edited is not null && approved != false
                ? new CompleteTaskRequest(edited, null, null)
                : new CompleteTaskRequest(null, approved, approved == false ? Text(content, "feedback") : null);
        }

        return task.InputSchema is not null
            ? new CompleteTaskRequest(null, null, null, Input: content)
            : new CompleteTaskRequest(Text(content, AnswerField) ?? "", null, null);
    }

    static string? Text(JsonObject content, string field) =>
        content[field] is JsonValue v && v.TryGetValue<string>(out var text) && text.Trim().Length > 0 ? text : null;

    static bool? Bool(JsonObject content, string field) => content[field] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;

    /// <summary>Edited arguments: the text parsed as a JSON object; text that is not one is kept for the answer's check to refuse.</summary>
    static JsonObject? Arguments(JsonObject content)
    {
        if (Text(content, "arguments") is not { } text)
        {
            return null;
        }

        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            parsed = null;
        }

        return parsed as JsonObject ?? throw new McpProtocolException(
            "'arguments' must be the call's arguments as a JSON object, e.g. {\"to\": \"team@example.com\"}.", McpErrorCode.InvalidParams);
    }
}
