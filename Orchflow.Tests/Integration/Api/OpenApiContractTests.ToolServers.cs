using System.Net;
using Orchflow.Abstractions;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

// The tool servers' operations (docs/api.md, "Tool servers and built-in tools"), driven against a small MCP server on a loopback port: the
// standalone host runs in Development, where tool servers may be on this machine.
public sealed partial class OpenApiContractTests
{
    async Task CreateToolServerScenario()
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        using var client = await NewAccountAsync();
        var key = NewKey();
        var body = new { url = server.Url, label = "Contract", headers = new Dictionary<string, string> { ["Authorization"] = "Bearer contract-secret" } };

        var created = await Expect(HttpStatusCode.Created, Call("createToolServer", client, "tool-servers", body, idempotencyKey: key));
        var replay = await Expect(HttpStatusCode.Created, Call("createToolServer", client, "tool-servers", body, idempotencyKey: key));
        Assert.That(replay.Json!.Str("server_id"), Is.EqualTo(created.Json!.Str("server_id")));
        await ExpectProblem("idempotency_mismatch", Call("createToolServer", client, "tool-servers", new { url = server.Url }, idempotencyKey: key));
        await ExpectProblem("validation_failed", Call("createToolServer", client, "tool-servers", new { url = "ftp://tools.example.com/mcp" }));
        await ExpectProblem("validation_failed", Call("createToolServer", client, "tool-servers", new { url = $"http://127.0.0.1:{Ports.FreeLoopbackPort()}/mcp" }));
        for (var count = 1; count < ToolLimits.MaxServersPerAccount; count++)
        {
            await NewToolServerAsync(client, server.Url);
        }

        await ExpectProblem("conflict", Call("createToolServer", client, "tool-servers", new { url = server.Url }));
        await Expect(HttpStatusCode.RequestEntityTooLarge, Call("createToolServer", client, "tool-servers", raw: Oversized));
        await Expect(HttpStatusCode.Unauthorized, Call("createToolServer", Anonymous, "tool-servers", body));
    }

    async Task ListToolServersScenario()
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        using var client = await NewAccountAsync();
        await Expect(HttpStatusCode.OK, Call("listToolServers", client, "tool-servers"));
        await NewToolServerAsync(client, server.Url);
        var list = await Expect(HttpStatusCode.OK, Call("listToolServers", client, "tool-servers"));
        Assert.That(list.Json!["tool_servers"]!.AsArray(), Has.Count.EqualTo(1));
        await Expect(HttpStatusCode.Unauthorized, Call("listToolServers", Anonymous, "tool-servers"));
    }

    async Task GetToolServerScenario()
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var path = $"tool-servers/{await NewToolServerAsync(client, server.Url)}";

        await Expect(HttpStatusCode.OK, Call("getToolServer", client, path));
        await ExpectProblem("not_found", Call("getToolServer", other, path));
        await Expect(HttpStatusCode.Unauthorized, Call("getToolServer", Anonymous, path));
    }

    async Task RefreshToolServerScenario()
    {
        var server = await LoopbackMcpServer.StartAsync();
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var path = $"tool-servers/{await NewToolServerAsync(client, server.Url)}/refresh";

        await Expect(HttpStatusCode.OK, Call("refreshToolServer", client, path));
        await ExpectProblem("not_found", Call("refreshToolServer", other, path));
        await server.DisposeAsync();
        await ExpectProblem("validation_failed", Call("refreshToolServer", client, path));
        await Expect(HttpStatusCode.Unauthorized, Call("refreshToolServer", Anonymous, path));
    }

    async Task DeleteToolServerScenario()
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var path = $"tool-servers/{await NewToolServerAsync(client, server.Url)}";

        await ExpectProblem("not_found", Call("deleteToolServer", other, path));
        await Expect(HttpStatusCode.NoContent, Call("deleteToolServer", client, path));
        await ExpectProblem("not_found", Call("deleteToolServer", client, path));
        await Expect(HttpStatusCode.Unauthorized, Call("deleteToolServer", Anonymous, path));
    }

    async Task<string> NewToolServerAsync(OrchflowClient client, string url) =>
        (await Expect(HttpStatusCode.Created, Call("createToolServer", client, "tool-servers", new { url }))).Json!.Str("server_id");
}
