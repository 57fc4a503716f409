using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Client;
using ModelContextProtocol.Extensions.Tasks;
using ModelContextProtocol.Protocol;

namespace Orchflow.Tests.Integration.Mcp;

/// <summary>The official C# SDK's MCP client (<c>McpClient</c> over <c>HttpClientTransport</c>) pointed at a host's <c>/mcp</c>.</summary>
public static class McpClients
{
    public static Uri EndpointOf(OrchflowHost host) => new($"http://127.0.0.1:{host.Port}/mcp");

    /// <summary>A client that sends <paramref name="headers"/> on every request (the key, as X-API-Key or Authorization).</summary>
    public static Task<McpClient> ConnectAsync(OrchflowHost host, IDictionary<string, string> headers) =>
        McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = EndpointOf(host),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = headers,
        }), new McpClientOptions { ClientInfo = new Implementation { Name = "orchflow-tests", Version = "1.0" } });

    public static Task<McpClient> ConnectAsync(OrchflowHost host, string apiKey) =>
        ConnectAsync(host, new Dictionary<string, string> { ["X-API-Key"] = apiKey });

    /// <summary>Calls a tool with JSON arguments.</summary>
    public static async Task<CallToolResult> CallAsync(this McpClient client, string tool, JsonObject arguments) =>
        await client.CallToolAsync(new CallToolRequestParams
        {
            Name = tool,
            Arguments = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(arguments.ToJsonString()),
        });

    /// <summary>A tool's structured result, or its text when it has none (an error's problem details).</summary>
    public static JsonNode Json(this CallToolResult result) =>
        result.StructuredContent is { } structured
            ? JsonNode.Parse(structured.GetRawText())!
            : JsonNode.Parse(((TextContentBlock)result.Content[0]).Text)!;

    /// <summary>Polls the MCP task until <paramref name="done"/> says its state will do.</summary>
    public static async Task<GetTaskResult> PollAsync(this McpClient client, string taskId, Func<GetTaskResult, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var state = await client.GetTaskAsync(taskId);
            if (done(state))
            {
                return state;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Task {taskId} stayed {state.Status} ({state.StatusMessage}).");
            }

            await Task.Delay(50);
        }
    }
}
