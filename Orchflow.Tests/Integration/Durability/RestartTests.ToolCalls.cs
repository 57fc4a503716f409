using System.Net;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Durability;

/// <summary>
/// The tool loop survives its worker dying (docs/api.md, "Durable"): the standalone host killed between two tool calls
/// of one task, and started again on the same tables and task hub. The call already recorded is not made again, the
/// model is not asked again for the turn whose answer is recorded, and the run completes.
/// </summary>
public sealed partial class RestartTests
{
    [Test]
    public async Task KillBetweenTwoToolCallsOfATask_RunCompletesAndNoRecordedCallOrModelTurnIsRepeated()
    {
        await using var model = await FakeChatServer.StartAsync();
        await using var mcp = await LoopbackMcpServer.StartAsync();
        host = await StartHostAsync();
        using var client = await OrchflowClient.RegisterAsync(host.BaseAddress);
        var serverId = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, "tool-servers", new { url = mcp.Url }), HttpStatusCode.Created).Str("server_id");
        var (providerId, _) = await client.CreateProviderAsync(new Uri(model.BaseUri, "v1"));

        // The turn after the first call is held until the worker is dead: the kill lands between the two calls.
        var hold = true;
        model.Responder = request =>
        {
            if (request.IsSynthesis)
            {
                return FakeReply.Chat("Final answer.");
            }

            var tool = request.OfferedTools.FirstOrDefault(n => n.EndsWith("__lookup", StringComparison.Ordinal)) ?? "lookup";
            return request.AskedToolCalls.Count switch
            {
                0 => FakeReply.ToolCall(tool, new { q = "one" }),
                1 when Volatile.Read(ref hold) => FakeReply.ToolCall(tool, new { q = "two" }).After(TimeSpan.FromMinutes(5)),
                1 => FakeReply.ToolCall(tool, new { q = "two" }),
                _ => FakeReply.Chat("Looked up: " + string.Join(" | ", request.ToolResults.Select(r => r.Content))),
            };
        };

        var runId = (await client.StartRunAsync(new
        {
            task = "Look up two facts, one after the other.",
            provider_id = providerId,
            plan = new
            {
                tasks = new[]
                {
                    new { task_id = "T1", name = "Look up", description = "Two lookups in turn.", kind = "agent", agent = "research", depends_on = Array.Empty<string>() },
                },
            },
            tools = new[] { $"{serverId}/lookup" },
        })).Str("run_id");
        await WaitUntilAsync(() => model.Requests.Any(r => r.AskedToolCalls.Count == 1), "the model was asked for the turn after the first call");
        var before = await client.GetRunAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(mcp.LookedUp, Is.EqualTo(new[] { "one" }), "precondition: the first call was made");
            Assert.That(before["subtasks"]!["T1"]!["tool_calls"]!.AsArray().Select(c => c!.Str("state")), Is.EqualTo(new[] { "completed" }),
                "precondition: and recorded");
        });

        await host.KillAsync();
        Volatile.Write(ref hold, false);
        await host.StartAgainAsync();

        var done = await client.WaitForRunAsync(runId, r => r.Str("status") is "completed" or "failed" or "cancelled", RecoveryTimeout);
        var turns = model.Requests.Where(r => r.TaskId == "T1").Select(r => r.AskedToolCalls.Count).ToList();
        await TestContext.Out.WriteLineAsync("The model's turns of T1 (calls asked before, tools offered): " + string.Join("; ",
            model.Requests.Where(r => r.TaskId == "T1").Select(r => $"{r.AskedToolCalls.Count}, [{string.Join(", ", r.OfferedTools)}]")));
        Assert.Multiple(() =>
        {
            Assert.That(done.Str("status"), Is.EqualTo("completed"), done["error"]?.ToJsonString());
            Assert.That(mcp.LookedUp, Is.EqualTo(new[] { "one", "two" }), "each call made once: the recorded one never again");
            Assert.That(turns.Count(t => t == 0), Is.EqualTo(1), "the recorded first turn is not asked again");
            Assert.That(turns.Count(t => t == 1), Is.EqualTo(2), "the turn cut off by the kill is asked again, once");
            Assert.That(turns.Count(t => t == 2), Is.EqualTo(1));
            Assert.That(RunGraph.Task(done, "T1")["tool_calls"]!.AsArray().Select(c => c!.Str("state")), Is.EqualTo(new[] { "completed", "completed" }));
            Assert.That(RunGraph.Task(done, "T1").Str("output"), Is.EqualTo("Looked up: found: one | found: two"));
            Assert.That(model.DroppedReplies, Is.EqualTo(new[] { "client" }), "the held turn's reply was never sent: its worker was dead");
        });
    }
}
