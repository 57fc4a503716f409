using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Orchflow.Testing;

/// <summary>
/// One request as <see cref="FakeChatServer"/> received it, with helpers that read the chat-completions body and tell
/// which of Orchflow's prompts it carries. <paramref name="Query"/> is the raw query string with its leading '?', or empty.
/// </summary>
public sealed partial record ChatRequestRecord(
    string Method,
    string Path,
    string Query,
    IReadOnlyDictionary<string, string> Headers,
    string Body)
{
    /// <summary>When the server had read the request (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>).</summary>
    public long ReceivedAt { get; init; }

    /// <summary>When the server had written its whole answer (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>); null before, or when none was sent.</summary>
    public long? AnsweredAt { get; internal set; }

    /// <summary>The body as a JSON object, or null when it is not one. Parsed on each access.</summary>
    public JsonObject? Json
    {
        get
        {
            try
            {
                return JsonNode.Parse(Body) as JsonObject;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    public string? Model => Text(Json?["model"]);

    /// <summary>Whether the client asked for the answer as Server-Sent Events (<c>"stream": true</c>).</summary>
    public bool Stream => Json?["stream"] is JsonValue value && value.TryGetValue<bool>(out var stream) && stream;

    /// <summary>Whether a streaming client asked for the usage in a last chunk (<c>stream_options.include_usage</c>).</summary>
    public bool IncludeUsage =>
        Json?["stream_options"]?["include_usage"] is JsonValue value && value.TryGetValue<bool>(out var include) && include;

    /// <summary>
    /// The messages' roles and text. Content given as an array of parts is the concatenation of its text parts;
    /// content that is absent or null is empty.
    /// </summary>
    public IReadOnlyList<(string Role, string Content)> Messages =>
        MessageObjects.Select(m => (Text(m["role"]) ?? "", ContentText(m["content"]))).ToArray();

    /// <summary>The first system message's content.</summary>
    public string? System => Messages.Where(m => m.Role == "system").Select(m => m.Content).FirstOrDefault();

    /// <summary>The last user message's content.</summary>
    public string? LastUser => Messages.Where(m => m.Role == "user").Select(m => m.Content).LastOrDefault();

    public JsonNode? ResponseFormat => Json?["response_format"];

    /// <summary>The names of the functions offered in <c>tools</c>, in order; empty when none are.</summary>
    public IReadOnlyList<string> OfferedTools =>
        Json?["tools"] is JsonArray tools
            ? tools.OfType<JsonObject>().Select(t => Text(t["function"]?["name"])).OfType<string>().ToArray()
            : [];

    /// <summary>The name a tool server's <paramref name="tool"/> was offered under (<c>mcs_…__tool</c>); throws when it was not offered.</summary>
    public string Offered(string tool) =>
        OfferedTools.SingleOrDefault(n => n.EndsWith("__" + tool, StringComparison.Ordinal))
        ?? throw new InvalidOperationException($"The model was not offered {tool}: [{string.Join(", ", OfferedTools)}]");

    /// <summary>The function calls of the conversation's assistant messages, in order: what the model asked for before.</summary>
    public IReadOnlyList<FakeToolCall> AskedToolCalls =>
        MessageObjects.Where(m => Text(m["role"]) == "assistant")
            .SelectMany(m => (m["tool_calls"] as JsonArray)?.OfType<JsonObject>() ?? [])
            .Select(c => new FakeToolCall(Text(c["id"]) ?? "", Text(c["function"]?["name"]) ?? "", Text(c["function"]?["arguments"]) ?? ""))
            .ToArray();

    /// <summary>The <c>tool</c> role messages, in order: each call's id and the result the model is given for it.</summary>
    public IReadOnlyList<(string CallId, string Content)> ToolResults =>
        MessageObjects.Where(m => Text(m["role"]) == "tool")
            .Select(m => (Text(m["tool_call_id"]) ?? "", ContentText(m["content"])))
            .ToArray();

    /// <summary>Orchflow's planner asking for a plan (or for its repair or review).</summary>
    public bool IsPlanner => System?.StartsWith("You are the planner of Orchflow", StringComparison.Ordinal) == true;

    /// <summary>Orchflow's synthesis asking for the run's final answer.</summary>
    public bool IsSynthesis => System?.StartsWith("You are the editor", StringComparison.Ordinal) == true;

    /// <summary>The task an agent call is for (T1, T2, …), from its prompt's first line; null for any other call.</summary>
    public string? TaskId => TaskHeading().Match(LastUser ?? "") is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>A header's value (several values are joined with ", "), or null; the name is case-insensitive.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    IEnumerable<JsonObject> MessageObjects => Json?["messages"] is JsonArray messages ? messages.OfType<JsonObject>() : [];

    static string? Text(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    static string ContentText(JsonNode? content) => content switch
    {
        JsonArray parts => string.Concat(parts.OfType<JsonObject>()
            .Where(p => Text(p["type"]) == "text")
            .Select(p => Text(p["text"]))),
        _ => Text(content) ?? "",
    };

    [GeneratedRegex(@"^Do task (T\d+) of the plan")]
    private static partial Regex TaskHeading();
}
