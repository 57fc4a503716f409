using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchflow.Testing;

/// <summary>
/// What <see cref="FakeChatServer"/> answers with: a status, a body, headers and an optional delay before answering.
/// The factories build the shapes the OpenAI chat-completions API returns. A reply that is a completion
/// (<see cref="Completion"/>) goes to a streaming request as Server-Sent Events chunks instead of <see cref="Body"/>;
/// errors and raw bodies go as they are, whatever the request asked.
/// </summary>
public sealed record FakeReply(int Status, string Body, IReadOnlyDictionary<string, string>? Headers = null, TimeSpan Delay = default)
{
    static readonly IReadOnlyDictionary<string, string> JsonContent = new Dictionary<string, string>
    {
        ["Content-Type"] = "application/json",
    };

    /// <summary>The completion this reply is, for a streaming request; null for replies that are not one.</summary>
    public FakeCompletion? Completion { get; init; }

    /// <summary>What a streaming request gets instead, as an event stream, for a reply that is not a completion; null to send <see cref="Body"/>.</summary>
    public string? StreamBody { get; init; }

    /// <summary>
    /// Writes the body itself, after the status and headers, for as long as it likes: the hostile answers of
    /// <see cref="HostileReplies"/> (GiBs, no end, a byte a second), which no string could hold. Ends when the client goes.
    /// </summary>
    public Func<Stream, CancellationToken, Task>? Writer { get; init; }

    /// <summary>Streamed, the pause before each piece of content after the first (none by default).</summary>
    public TimeSpan ChunkInterval { get; init; }

    /// <summary>A 200 chat completion whose single choice is an assistant message with <paramref name="content"/>.</summary>
    public static FakeReply Chat(string content, int promptTokens = 11, int completionTokens = 7, string model = "fake-model") =>
        Of(new FakeCompletion(model, content, [], new FakeUsage(promptTokens, completionTokens)));

    /// <summary>A 200 chat completion with no "usage" member.</summary>
    public static FakeReply ChatWithoutUsage(string content) => Of(new FakeCompletion("fake-model", content, [], Usage: null));

    /// <summary>A 200 chat completion whose assistant message asks for <paramref name="calls"/> (finish reason "tool_calls").</summary>
    public static FakeReply ToolCalls(params FakeToolCall[] calls) =>
        Of(new FakeCompletion("fake-model", null, calls, new FakeUsage(11, 7)));

    /// <summary>A 200 chat completion asking for one call of <paramref name="name"/> with <paramref name="arguments"/> serialized as JSON.</summary>
    public static FakeReply ToolCall(string name, object arguments) => ToolCalls(FakeToolCall.Of(name, arguments));

    /// <summary>A 429 with a Retry-After header, in seconds, and an OpenAI rate-limit error body.</summary>
    public static FakeReply RateLimited(int retryAfterSeconds) =>
        new(429, Error("Rate limit reached for requests. Please try again later.", "rate_limit_exceeded", "rate_limit_exceeded"),
            new Dictionary<string, string>
            {
                ["Content-Type"] = "application/json",
                ["Retry-After"] = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });

    public static FakeReply ServerError(int status = 500) =>
        new(status, Error("The server had an error while processing your request.", "server_error", code: null), JsonContent);

    public static FakeReply Unauthorized(int status = 401) =>
        new(status, Error("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"), JsonContent);

    public static FakeReply BadRequest(string message) => new(400, Error(message, "invalid_request_error", code: null), JsonContent);

    /// <summary>A 200 that says it is JSON but is not; streamed, an event whose data is that same broken JSON.</summary>
    public static FakeReply Malformed()
    {
        const string broken = "{\"id\": \"chatcmpl-fake\", \"choices\": [ this is not JSON";
        return new(200, broken, JsonContent) { StreamBody = $"data: {broken}\n\n" };
    }

    /// <summary>A well-formed 200 chat completion with no choices; streamed, a stream whose chunks have none.</summary>
    public static FakeReply EmptyChoices() => Of(new FakeCompletion("fake-model", null, [], Usage: null, HasChoice: false));

    /// <summary>The same reply, sent after <paramref name="delay"/> unless the client disconnects or the server stops first.</summary>
    public FakeReply After(TimeSpan delay) => this with { Delay = delay };

    /// <summary>The same reply, its content streamed word by word with <paramref name="interval"/> before each word after the first.</summary>
    public FakeReply StreamedEvery(TimeSpan interval) => this with { ChunkInterval = interval };

    static FakeReply Of(FakeCompletion completion) => new(200, completion.ToJson(), JsonContent) { Completion = completion };

    static string Error(string message, string type, string? code) => new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["message"] = message,
            ["type"] = type,
            ["param"] = null,
            ["code"] = code,
        },
    }.ToJsonString();
}

/// <summary>Token counts a completion reports.</summary>
public sealed record FakeUsage(int PromptTokens, int CompletionTokens)
{
    public JsonObject ToJson() => new()
    {
        ["prompt_tokens"] = PromptTokens,
        ["completion_tokens"] = CompletionTokens,
        ["total_tokens"] = PromptTokens + CompletionTokens,
    };
}

/// <summary>A function call an assistant message asks for (or asked for, as a later request carries it back).</summary>
public sealed record FakeToolCall(string Id, string Name, string ArgumentsJson)
{
    /// <summary>A call of <paramref name="name"/> with <paramref name="arguments"/> serialized as JSON, under a fresh id unless given one.</summary>
    public static FakeToolCall Of(string name, object arguments, string? id = null) =>
        new(id ?? "call_" + Guid.NewGuid().ToString("N")[..12], name, arguments as string ?? JsonSerializer.Serialize(arguments));

    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["type"] = "function",
        ["function"] = new JsonObject { ["name"] = Name, ["arguments"] = ArgumentsJson },
    };
}

/// <summary>
/// One chat completion, as a whole body (<see cref="ToJson"/>) or as the chunks of a stream (<see cref="Chunks"/>): the
/// assistant's text, the calls it asks for, the usage. <paramref name="HasChoice"/> false is a completion with no choices.
/// </summary>
public sealed record FakeCompletion(string Model, string? Content, IReadOnlyList<FakeToolCall> ToolCalls, FakeUsage? Usage, bool HasChoice = true)
{
    readonly string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
    readonly long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public string FinishReason => ToolCalls.Count > 0 ? "tool_calls" : "stop";

    public string ToJson()
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = Content };
        if (ToolCalls.Count > 0)
        {
            message["tool_calls"] = new JsonArray(ToolCalls.Select(c => (JsonNode)c.ToJson()).ToArray());
        }

        var completion = Envelope("chat.completion", HasChoice
            ? [new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = FinishReason }]
            : []);
        if (Usage is not null)
        {
            completion["usage"] = Usage.ToJson();
        }

        return completion.ToJsonString();
    }

    /// <summary>
    /// The stream's chunks in order, each with the piece of content it carries (null for the others): the role, the
    /// content word by word, each call's name and then its arguments in two halves, the finish reason, and the usage in
    /// a last chunk with no choices when <paramref name="includeUsage"/> (other chunks then say <c>"usage": null</c>).
    /// </summary>
    public IEnumerable<(string Json, string? Content)> Chunks(bool includeUsage)
    {
        if (HasChoice)
        {
            yield return (Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null, includeUsage), null);
            foreach (var piece in Words(Content ?? ""))
            {
                yield return (Chunk(new JsonObject { ["content"] = piece }, null, includeUsage), piece);
            }

            for (var i = 0; i < ToolCalls.Count; i++)
            {
                var call = ToolCalls[i];
                var half = call.ArgumentsJson.Length / 2;
                yield return (Chunk(CallDelta(i, new JsonObject { ["name"] = call.Name, ["arguments"] = "" }, call.Id), null, includeUsage), null);
                yield return (Chunk(CallDelta(i, new JsonObject { ["arguments"] = call.ArgumentsJson[..half] }), null, includeUsage), null);
                yield return (Chunk(CallDelta(i, new JsonObject { ["arguments"] = call.ArgumentsJson[half..] }), null, includeUsage), null);
            }

            yield return (Chunk(new JsonObject(), FinishReason, includeUsage), null);
        }

        if (includeUsage)
        {
            var last = Envelope("chat.completion.chunk", []);
            last["usage"] = Usage?.ToJson();
            yield return (last.ToJsonString(), null);
        }
    }

    string Chunk(JsonObject delta, string? finishReason, bool includeUsage)
    {
        var chunk = Envelope("chat.completion.chunk",
            [new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason }]);
        if (includeUsage)
        {
            chunk["usage"] = null;
        }

        return chunk.ToJsonString();
    }

    static JsonObject CallDelta(int index, JsonObject function, string? id = null)
    {
        var call = new JsonObject { ["index"] = index };
        if (id is not null)
        {
            call["id"] = id;
            call["type"] = "function";
        }

        call["function"] = function;
        return new JsonObject { ["tool_calls"] = new JsonArray(call) };
    }

    JsonObject Envelope(string type, JsonNode[] choices) => new()
    {
        ["id"] = id,
        ["object"] = type,
        ["created"] = created,
        ["model"] = Model,
        ["choices"] = new JsonArray(choices),
    };

    /// <summary>The text cut after each run of spaces: each word with the spaces that follow it; together, the text.</summary>
    static IEnumerable<string> Words(string text)
    {
        var start = 0;
        for (var i = 1; i <= text.Length; i++)
        {
            if (i == text.Length || (char.IsWhiteSpace(text[i - 1]) && !char.IsWhiteSpace(text[i])))
            {
                yield return text[start..i];
                start = i;
            }
        }
    }
}
