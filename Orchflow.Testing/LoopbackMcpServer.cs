using System.Text;
using System.Text.Json.Nodes;

namespace Orchflow.Testing;

/// <summary>
/// A small MCP server on a loopback port, written for the tests (Streamable HTTP, answers as plain JSON, no sessions):
/// honest by default, with tools that answer, fail, throw, answer too much or take their time, and as hostile as a test
/// makes it with <see cref="Always"/> (garbage, a page, a redirect, 10 MB, silence) or, past the handshake, with
/// <see cref="OnToolCalls"/> (the streamed answers of <see cref="HostileReplies"/>). Built on
/// <see cref="FakeChatServer"/>, which records every request.
/// </summary>
public sealed class LoopbackMcpServer : IAsyncDisposable
{
    static readonly Dictionary<string, string> Json = new() { ["Content-Type"] = "application/json" };

    readonly FakeChatServer server;
    readonly int toolCount;
    FakeReply? always;
    FakeReply? onCalls;

    LoopbackMcpServer(FakeChatServer server, int toolCount)
    {
        this.server = server;
        this.toolCount = toolCount;
        server.Responder = Answer;
    }

    /// <summary>Starts a server whose tools/list has its honest tools and, past them, <paramref name="extraTools"/> more.</summary>
    public static async Task<LoopbackMcpServer> StartAsync(int extraTools = 0) => new(await FakeChatServer.StartAsync(), extraTools);

    /// <summary>http://127.0.0.1:{port}/mcp</summary>
    public string Url => new Uri(server.BaseUri, "mcp").ToString();

    public IReadOnlyList<ChatRequestRecord> Requests => server.Requests;

    /// <summary>The JSON-RPC methods received, in order.</summary>
    public IReadOnlyList<string> Methods => Requests.Select(r => r.Json?["method"]?.GetValue<string>() ?? r.Method).ToList();

    /// <summary>The tools/call requests received, in order: each tool's name and the arguments it was called with.</summary>
    public IReadOnlyList<(string Tool, JsonObject Arguments)> Calls => Requests
        .Select(r => r.Json)
        .Where(m => m?["method"]?.GetValue<string>() == "tools/call")
        .Select(m => (m!["params"]?["name"]?.GetValue<string>() ?? "", m["params"]?["arguments"] as JsonObject ?? []))
        .ToList();

    /// <summary>What lookup was asked for (its <c>q</c>), call by call.</summary>
    public IReadOnlyList<string> LookedUp => Calls.Where(c => c.Tool == "lookup").Select(c => c.Arguments["q"]?.ToString() ?? "").ToList();

    /// <summary>Answers every request with <paramref name="reply"/> from now on, whatever it asks.</summary>
    public void Always(FakeReply reply) => always = reply;

    /// <summary>Answers every tools/call with <paramref name="reply"/> from now on; the handshake and tools/list stay honest.</summary>
    public void OnToolCalls(FakeReply reply) => onCalls = reply;

    /// <summary>Answers honestly again.</summary>
    public void Honest() => (always, onCalls) = (null, null);

    public static FakeReply Garbage() => new(200, "{\"jsonrpc\": \"2.0\", \"id\": 1, \"result\": {oops this is not JSON", Json);

    public static FakeReply Page() => new(200, "<!doctype html><html><body><h1>Welcome</h1></body></html>",
        new Dictionary<string, string> { ["Content-Type"] = "text/html; charset=utf-8" });

    public static FakeReply Redirect(string location) => new(302, "", new Dictionary<string, string> { ["Location"] = location });

    /// <summary>A JSON body of 10 MB, with a Content-Length that says so.</summary>
    public static FakeReply TenMegabytes() => new(200, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"padding\":\"" + new string('x', 10_000_000) + "\"}}", Json);

    public static FakeReply Silence(TimeSpan delay) => new FakeReply(200, "{}", Json).After(delay);

    public ValueTask DisposeAsync() => server.DisposeAsync();

    FakeReply Answer(ChatRequestRecord request)
    {
        if (always is { } reply)
        {
            return reply;
        }

        if (request.Method != "POST")
        {
            return new FakeReply(405, "");
        }

        var message = request.Json;
        var id = message?["id"]?.DeepClone();
        var method = message?["method"]?.GetValue<string>();
        if (method == "tools/call" && onCalls is { } hostile)
        {
            return hostile;
        }

        return method switch
        {
            "initialize" => Result(id, new JsonObject
            {
                ["protocolVersion"] = message?["params"]?["protocolVersion"]?.DeepClone() ?? "2025-11-25",
                ["capabilities"] = new JsonObject { ["tools"] = new JsonObject() },
                ["serverInfo"] = new JsonObject { ["name"] = "loopback-test-server", ["version"] = "1.0.0" },
            }),
            "tools/list" => Result(id, new JsonObject { ["tools"] = Tools() }),
            "tools/call" => Call(id, message?["params"] as JsonObject),
            null or "" => new FakeReply(400, ""),
            _ when id is null => new FakeReply(202, ""),
            _ => Error(id, -32601, $"Method not found: {method}"),
        };
    }

    JsonArray Tools()
    {
        var tools = new JsonArray
        {
            Tool("lookup", "Looks a word up.", new JsonObject { ["q"] = new JsonObject { ["type"] = "string" } }),
            Tool("fail", "Always reports a failure.", []),
            Tool("explode", "Throws inside the server.", []),
            Tool("ramble", "Answers with 100,000 characters.", []),
            Tool("flood", "Answers with 10 MB.", []),
            Tool("dawdle", "Answers after 5 seconds.", []),
        };
        for (var i = 0; i < toolCount; i++)
        {
            tools.Add(Tool($"extra_{i:D4}", $"Extra tool number {i}.", []));
        }

        return tools;
    }

    static JsonObject Tool(string name, string description, JsonObject properties) => new()
    {
        ["name"] = name,
        ["description"] = description,
        ["inputSchema"] = new JsonObject { ["type"] = "object", ["properties"] = properties },
    };

    static FakeReply Call(JsonNode? id, JsonObject? call) => call?["name"]?.GetValue<string>() switch
    {
        "lookup" => Text(id, "found: " + (call["arguments"]?["q"]?.GetValue<string>() ?? "(nothing)")),
        "fail" => Result(id, new JsonObject
        {
            ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "The upstream API said no." }),
            ["isError"] = true,
        }),
        "explode" => Error(id, -32603, "Internal error: kaboom in the tool"),
        "ramble" => Text(id, string.Concat(Enumerable.Repeat("All work and no play. ", 100_000 / 22 + 1))[..100_000]),
        "flood" => Text(id, new string('z', 10_000_000)),
        "dawdle" => Text(id, "finally").After(TimeSpan.FromSeconds(5)),
        var other => Error(id, -32602, $"Unknown tool: {other}"),
    };

    static FakeReply Text(JsonNode? id, string text) =>
        Result(id, new JsonObject { ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text }) });

    static FakeReply Result(JsonNode? id, JsonObject result) =>
        new(200, new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["result"] = result }.ToJsonString(), Json);

    static FakeReply Error(JsonNode? id, int code, string message) =>
        new(200, new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }.ToJsonString(), Json);
}
