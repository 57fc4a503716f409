using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Tools;

/// <summary>
/// What goes wrong at run level ends as a call's outcome told to the model, and the run completes: a server that went
/// down after it was registered, a tool that throws, a call to a tool not offered, arguments the tool's schema refuses.
/// A model that never stops asking is cut off at <c>max_tool_calls</c> and asked to finish without tools. Never a stuck
/// run, never a 5xx.
/// </summary>
public sealed partial class ToolRunsTests
{
    /// <summary>How the model calls lookup or explode on the tests' MCP server (the tool it was offered under <c>mcs_…__</c>).</summary>
    public enum Misstep
    {
        ServerWentDown,
        ToolThrows,
        UnknownTool,
        ArgumentsBreakTheSchema,
    }

    [TestCase(Misstep.ServerWentDown, "could not be reached")]
    [TestCase(Misstep.ToolThrows, "kaboom")]
    [TestCase(Misstep.UnknownTool, "no tool")]
    [TestCase(Misstep.ArgumentsBreakTheSchema, "arguments")]
    public async Task Run_CallGoesWrong_FailedCallToldToTheModelAndTheRunCompletes(Misstep misstep, string errorMentions)
    {
        var mcp = await LoopbackMcpServer.StartAsync();
        try
        {
            using var client = await RegisterAsync();
            var serverId = await client.RegisterToolServerAsync(mcp.Url);
            var (providerId, _) = await client.CreateProviderAsync(new Uri(ModelServer.BaseUri, "v1"));
            if (misstep == Misstep.ServerWentDown)
            {
                await mcp.DisposeAsync();
            }

            AnswerT1(request => request.AskedToolCalls.Count == 0
                ? misstep switch
                {
                    Misstep.ToolThrows => FakeReply.ToolCall(request.Offered("explode"), new { }),
                    Misstep.UnknownTool => FakeReply.ToolCall(serverId + "__send_email", new { to = "ceo@example.com" }),
                    Misstep.ArgumentsBreakTheSchema => FakeReply.ToolCall(request.Offered("lookup"), new { q = 42 }),
                    _ => FakeReply.ToolCall(request.Offered("lookup"), new { q = "pricing" }),
                }
                : FakeReply.Chat("Could not use the tool: " + request.ToolResults.Single().Content));

            var runId = (await client.StartRunAsync(new
            {
                task = Goal,
                provider_id = providerId,
                plan = OneTaskPlan,
                tools = new[] { $"{serverId}/lookup", $"{serverId}/explode" },
            })).Str("run_id");
            var done = await client.WaitForRunAsync(runId, r => r.Str("status") is "completed" or "failed" or "cancelled");

            var call = ToolCalls(RunGraph.Task(done, "T1")).Single();
            var told = ModelServer.Requests.Last(r => r.TaskId == "T1").ToolResults.Single().Content;
            Assert.Multiple(() =>
            {
                Assert.That(done.Str("status"), Is.EqualTo("completed"), done["error"]?.ToString());
                Assert.That(call.Str("state"), Is.EqualTo("failed"));
                Assert.That(call.Str("error"), Does.Contain(errorMentions).IgnoreCase);
                Assert.That(told, Does.Contain(call.Str("error")), "the model is told the call's error as its result");
                Assert.That(RunGraph.Task(done, "T1").Str("output"), Does.StartWith("Could not use the tool: "));
                Assert.That(client.Received.Select(r => (int)r.Status), Is.All.LessThan(500));
            });
            if (misstep is Misstep.UnknownTool or Misstep.ArgumentsBreakTheSchema)
            {
                Assert.That(mcp.Calls, Is.Empty, "a call that is not offered, or whose arguments do not fit, is not made");
            }
        }
        finally
        {
            await mcp.DisposeAsync();
        }
    }

    [Test]
    public async Task Run_ModelLoopsOnATool_CutOffAtMaxToolCallsThenAskedToFinishWithoutTools()
    {
        await using var mcp = await LoopbackMcpServer.StartAsync();
        using var client = await RegisterAsync();
        var serverId = await client.RegisterToolServerAsync(mcp.Url);
        var (providerId, _) = await client.CreateProviderAsync(new Uri(ModelServer.BaseUri, "v1"));
        // Asks again whenever it may; answers only once it is offered nothing.
        AnswerT1(request => request.OfferedTools.Count > 0
            ? FakeReply.ToolCall(request.Offered("lookup"), new { q = "again " + request.AskedToolCalls.Count })
            : FakeReply.Chat($"Stopped after {request.ToolResults.Count} lookups."));

        var runId = (await client.StartRunAsync(new
        {
            task = Goal,
            provider_id = providerId,
            plan = OneTaskPlan,
            tools = new[] { $"{serverId}/lookup" },
            max_tool_calls = 3,
        })).Str("run_id");
        var done = await client.WaitForRunAsync(runId, r => r.Str("status") is "completed" or "failed" or "cancelled");

        var asks = ModelServer.Requests.Where(r => r.TaskId == "T1").ToList();
        Assert.Multiple(() =>
        {
            Assert.That(done.Str("status"), Is.EqualTo("completed"), done["error"]?.ToString());
            Assert.That(ToolCalls(RunGraph.Task(done, "T1")).Select(c => c.Str("state")), Is.EqualTo(new[] { "completed", "completed", "completed" }));
            Assert.That(mcp.LookedUp, Is.EqualTo(new[] { "again 0", "again 1", "again 2" }));
            Assert.That(asks, Has.Count.EqualTo(4), "three turns with tools, then one without");
            Assert.That(asks[^1].OfferedTools, Is.Empty);
            Assert.That(RunGraph.Task(done, "T1").Str("output"), Is.EqualTo("Stopped after 3 lookups."));
        });
    }
}
