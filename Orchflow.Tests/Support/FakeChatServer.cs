using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Orchflow.Tests.Support;

/// <summary>
/// A loopback HTTP server that answers like the OpenAI chat-completions API (non-streaming), for tests that drive
/// the model adapters over real HTTP. Every request, on any path, is recorded and then answered with the next
/// queued reply, or by <see cref="Responder"/> when the queue is empty.
/// </summary>
public sealed class FakeChatServer : IAsyncDisposable
{
    static readonly Func<ChatRequestRecord, FakeReply> DefaultResponder = _ => FakeReply.Chat("Fake model output.");

    readonly object gate = new();
    readonly Queue<FakeReply> queue = new();
    readonly List<ChatRequestRecord> requests = [];
    readonly List<string> dropped = [];
    readonly CancellationTokenSource stopping = new();
    Func<ChatRequestRecord, FakeReply> responder = DefaultResponder;
    WebApplication? app;
    int disposed;

    FakeChatServer()
    {
    }

    /// <summary>http://127.0.0.1:{port}/</summary>
    public Uri BaseUri { get; private set; } = null!;

    /// <summary>A snapshot of the requests received so far, in arrival order.</summary>
    public IReadOnlyList<ChatRequestRecord> Requests
    {
        get
        {
            lock (gate)
            {
                return requests.ToArray();
            }
        }
    }

    /// <summary>
    /// Why each delayed reply was never sent, in order: "client" when the client went away first, "stopping" when the
    /// server was stopped first and cut the delay short.
    /// </summary>
    public IReadOnlyList<string> DroppedReplies
    {
        get
        {
            lock (gate)
            {
                return dropped.ToArray();
            }
        }
    }

    /// <summary>Answers requests while the queue is empty; by default a 200 chat completion saying "Fake model output.".</summary>
    public Func<ChatRequestRecord, FakeReply> Responder
    {
        get
        {
            lock (gate)
            {
                return responder;
            }
        }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (gate)
            {
                responder = value;
            }
        }
    }

    public static async Task<FakeChatServer> StartAsync()
    {
        var server = new FakeChatServer();
        // The shutdown backstop is for handlers that do not end on their own (a blocking responder).
        (server.app, server.BaseUri) = await LoopbackApp.StartAsync(server.HandleAsync, TimeSpan.FromSeconds(1.5));
        return server;
    }

    /// <summary>Queues replies served, in order, to the next requests on any path.</summary>
    public void Enqueue(params FakeReply[] replies)
    {
        lock (gate)
        {
            foreach (var reply in replies)
            {
                queue.Enqueue(reply);
            }
        }
    }

    /// <summary>Clears the queue and the recorded requests and restores the default responder.</summary>
    public void Reset()
    {
        lock (gate)
        {
            queue.Clear();
            requests.Clear();
            responder = DefaultResponder;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        // Ends pending delayed replies first, so Kestrel's graceful stop has nothing left to wait for.
        await stopping.CancelAsync();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        stopping.Dispose();
    }

    async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var record = new ChatRequestRecord(request.Method, request.PathBase + request.Path, request.QueryString.Value ?? "",
            headers, body);

        FakeReply? reply;
        Func<ChatRequestRecord, FakeReply> fallback;
        lock (gate)
        {
            requests.Add(record);
            queue.TryDequeue(out reply);
            fallback = responder;
        }

        reply ??= fallback(record);

        if (reply.Delay > TimeSpan.Zero)
        {
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping.Token);
            try
            {
                await Task.Delay(reply.Delay, waiting.Token);
            }
            catch (OperationCanceledException) when (waiting.IsCancellationRequested)
            {
                // The client gave up or the server is stopping: drop the connection instead of answering.
                lock (gate)
                {
                    dropped.Add(context.RequestAborted.IsCancellationRequested ? "client" : "stopping");
                }

                context.Abort();
                return;
            }
        }

        var response = context.Response;
        response.StatusCode = reply.Status;
        foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>())
        {
            response.Headers[name] = value;
        }

        var bytes = Encoding.UTF8.GetBytes(reply.Body);
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, context.RequestAborted);
    }
}

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

    /// <summary>
    /// The messages' roles and text. Content given as an array of parts is the concatenation of its text parts;
    /// content that is absent or null is empty.
    /// </summary>
    public IReadOnlyList<(string Role, string Content)> Messages =>
        Json?["messages"] is JsonArray messages
            ? messages.OfType<JsonObject>().Select(m => (Text(m["role"]) ?? "", ContentText(m["content"]))).ToArray()
            : [];

    /// <summary>The first system message's content.</summary>
    public string? System => Messages.Where(m => m.Role == "system").Select(m => m.Content).FirstOrDefault();

    /// <summary>The last user message's content.</summary>
    public string? LastUser => Messages.Where(m => m.Role == "user").Select(m => m.Content).LastOrDefault();

    public JsonNode? ResponseFormat => Json?["response_format"];

    /// <summary>Orchflow's planner asking for a plan (or for its repair or review).</summary>
    public bool IsPlanner => System?.StartsWith("You are the planner of Orchflow", StringComparison.Ordinal) == true;

    /// <summary>Orchflow's synthesis asking for the run's final answer.</summary>
    public bool IsSynthesis => System?.StartsWith("You are the editor", StringComparison.Ordinal) == true;

    /// <summary>The task an agent call is for (T1, T2, …), from its prompt's heading; null for any other call.</summary>
    public string? TaskId => TaskHeading().Match(LastUser ?? "") is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>A header's value (several values are joined with ", "), or null; the name is case-insensitive.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    static string? Text(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    static string ContentText(JsonNode? content) => content switch
    {
        JsonArray parts => string.Concat(parts.OfType<JsonObject>()
            .Where(p => Text(p["type"]) == "text")
            .Select(p => Text(p["text"]))),
        _ => Text(content) ?? "",
    };

    [GeneratedRegex(@"## Your task: (T\d+)")]
    private static partial Regex TaskHeading();
}

/// <summary>
/// What <see cref="FakeChatServer"/> answers with: a status, a body, headers and an optional delay before answering.
/// The factories build the shapes the OpenAI chat-completions API returns.
/// </summary>
public sealed record FakeReply(int Status, string Body, IReadOnlyDictionary<string, string>? Headers = null, TimeSpan Delay = default)
{
    static readonly IReadOnlyDictionary<string, string> JsonContent = new Dictionary<string, string>
    {
        ["Content-Type"] = "application/json",
    };

    /// <summary>A 200 chat completion whose single choice is an assistant message with <paramref name="content"/>.</summary>
    public static FakeReply Chat(string content, int promptTokens = 11, int completionTokens = 7, string model = "fake-model") =>
        new(200, Completion(model, [Choice(content)], new JsonObject
        {
            ["prompt_tokens"] = promptTokens,
            ["completion_tokens"] = completionTokens,
            ["total_tokens"] = promptTokens + completionTokens,
        }), JsonContent);

    /// <summary>A 200 chat completion with no "usage" member.</summary>
    public static FakeReply ChatWithoutUsage(string content) => new(200, Completion("fake-model", [Choice(content)], usage: null), JsonContent);

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

    /// <summary>A 200 that says it is JSON but is not.</summary>
    public static FakeReply Malformed() => new(200, "{\"id\": \"chatcmpl-fake\", \"choices\": [ this is not JSON", JsonContent);

    /// <summary>A well-formed 200 chat completion with no choices.</summary>
    public static FakeReply EmptyChoices() => new(200, Completion("fake-model", [], usage: null), JsonContent);

    /// <summary>The same reply, sent after <paramref name="delay"/> unless the client disconnects or the server stops first.</summary>
    public FakeReply After(TimeSpan delay) => this with { Delay = delay };

    static JsonObject Choice(string content) => new()
    {
        ["index"] = 0,
        ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content },
        ["finish_reason"] = "stop",
    };

    static string Completion(string model, JsonNode[] choices, JsonObject? usage)
    {
        var completion = new JsonObject
        {
            ["id"] = "chatcmpl-" + Guid.NewGuid().ToString("N"),
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = model,
            ["choices"] = new JsonArray(choices),
        };
        if (usage is not null)
        {
            completion["usage"] = usage;
        }

        return completion.ToJsonString();
    }

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
