using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Tools;

/// <summary>
/// The simulated model (runs without a provider) acts too, so the local default shows the feature: offered
/// <c>fetch_url</c> and a task naming a page, it fetches the page; offered an MCP tool, it calls it with arguments taken
/// from the task; either way its output is built on what came back.
/// </summary>
public sealed partial class ToolRunsTests
{
    [Test]
    public async Task SimulatedRun_FetchUrlOnAPageTheGoalNames_FetchesItAndTheOutputUsesThePage()
    {
        await using var pages = await LoopbackPages.StartAsync();
        pages.Serve("pricing", "text/html; charset=utf-8",
            "<html><head><title>Acme pricing</title><script>var hidden = 1;</script></head>" +
            "<body><h1>Acme pricing</h1><p>The Team plan costs 49 dollars a month.</p></body></html>");
        using var client = await RegisterAsync();

        var runId = (await client.StartRunAsync(new
        {
            task = $"Read the pricing page at {pages.Url("pricing")} and report what the Team plan costs.",
            plan = OneTaskPlan,
            tools = new[] { "fetch_url" },
        })).Str("run_id");
        var done = await client.WaitForStatusAsync(runId, "completed");

        var task = RunGraph.Task(done, "T1");
        var call = ToolCalls(task).Single();
        Assert.Multiple(() =>
        {
            Assert.That(call.Str("tool"), Is.EqualTo("fetch_url"));
            Assert.That(call["arguments"]!["url"]!.GetValue<string>(), Is.EqualTo(pages.Url("pricing")));
            Assert.That(call.Str("state"), Is.EqualTo("completed"));
            Assert.That(call.Str("result"), Does.Contain("The Team plan costs 49 dollars a month.").And.Not.Contain("hidden"));
            Assert.That(pages.Requests.Select(r => r.Path), Is.EqualTo(new[] { "/pricing" }));
            // The simulated model builds on each call's outcome as on a dependency's output: named, and its gist quoted.
            Assert.That(task.Str("output"), Does.Contain(call.Str("call_id")).And.Contain("Acme pricing"));
            Assert.That(ModelServer.Requests, Is.Empty, "no provider: the simulated model answered");
        });
    }

    [Test]
    public async Task SimulatedRun_McpToolOffered_CallsItWithTheTasksNameAndTheOutputUsesTheResult()
    {
        await using var mcp = await LoopbackMcpServer.StartAsync();
        using var client = await RegisterAsync();
        var serverId = await client.RegisterToolServerAsync(mcp.Url);

        var runId = (await client.StartRunAsync(new { task = Goal, plan = OneTaskPlan, tools = new[] { $"{serverId}/lookup" } })).Str("run_id");
        var done = await client.WaitForStatusAsync(runId, "completed");

        var task = RunGraph.Task(done, "T1");
        var call = ToolCalls(task).Single();
        Assert.Multiple(() =>
        {
            Assert.That(call.Str("tool"), Is.EqualTo($"{serverId}/lookup"));
            Assert.That(call["arguments"]!["q"]!.GetValue<string>(), Is.EqualTo("Look things up"), "a text argument filled with the task's name");
            Assert.That(call.Str("result"), Is.EqualTo("found: Look things up"));
            Assert.That(mcp.LookedUp, Is.EqualTo(new[] { "Look things up" }));
            Assert.That(task.Str("output"), Does.Contain("found: Look things up"));
            Assert.That(ModelServer.Requests, Is.Empty, "no provider: the simulated model answered");
        });
    }
}
