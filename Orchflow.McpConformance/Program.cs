// The client the MCP conformance suite (npm @modelcontextprotocol/conformance) tests: Orchflow's own MCP client, as
// the toolbox uses it. The suite starts a scenario's server, runs this with the server's URL as the last argument,
// and judges what reached the server. This connects, lists the tools, and calls each one once with arguments made
// from its schema, on one session, as a run's agent task would; it prints each result and exits 1 if any call failed.
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using Orchflow.Tools;

if (args.Length == 0 || !Uri.TryCreate(args[^1], UriKind.Absolute, out var url))
{
    Console.Error.WriteLine("usage: Orchflow.McpConformance <server url>");
    return 2;
}

var timeout = TimeSpan.FromSeconds(20);
// The suite's servers listen on localhost.
var options = Options.Create(new ToolOptions { CallTimeoutMs = (int)timeout.TotalMilliseconds });
using var http = new ToolHttp(Orchflow.Infrastructure.Network.AddressPolicy.Loopback());
await using var sessions = new McpSessions(new McpConnector(http), TimeProvider.System);
var headers = new Dictionary<string, string>();
using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));

var failures = 0;
try
{
    var (tools, _) = await sessions.UseAsync("mcs_conformance", url, headers, timeout,
        client => McpConnector.ListToolsAsync(client, ToolLists.MaxTools, ToolLists.MaxPages, limit.Token), limit.Token);
    Console.WriteLine($"Connected to {url}: {tools.Count} tools ({string.Join(", ", tools.Select(t => t.Name))}).");
    foreach (var tool in tools)
    {
        var arguments = Arguments(JsonNode.Parse(tool.InputSchema.GetRawText()) as JsonObject);
        var result = await sessions.UseAsync("mcs_conformance", url, headers, timeout,
            client => client.CallToolAsync(tool.Name, arguments, cancellationToken: limit.Token).AsTask(), limit.Token);
        Console.WriteLine($"{tool.Name}: {(result.IsError == true ? "error: " : "")}{ToolResults.Cut(ToolResults.Text(result))}");
        failures += result.IsError == true ? 1 : 0;
    }
}
catch (Exception e) when (ToolFailures.Describe(e, $"The server at {url}", timeout, CancellationToken.None) is { } failure)
{
    Console.Error.WriteLine(failure.Message);
    return 1;
}

return failures == 0 ? 0 : 1;

// A value for each property the schema lists: a number for a number, true for a boolean, a word for the rest.
static Dictionary<string, object?> Arguments(JsonObject? schema) =>
    (schema?["properties"] as JsonObject ?? []).ToDictionary(
        p => p.Key,
        p => (p.Value?["type"]?.GetValue<string>()) switch
        {
            "number" or "integer" => (object?)(p.Key.Length + 2),
            "boolean" => true,
            "array" => Array.Empty<object>(),
            "object" => new Dictionary<string, object?>(),
            _ => "conformance",
        });
