using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Tools;

/// <summary>
/// Calls a person approves first, answered over HTTP with <c>/complete</c>: each waits as the task's
/// <c>pending_tool_call</c>, announced by <c>task.waiting_human</c> and its webhook, and is made as asked, made with
/// edited arguments (an edit its schema refuses is a 422 naming the field, and changes nothing), or refused with a reason
/// the model is told.
/// </summary>
public sealed partial class ToolRunsTests
{
    [Test]
    public async Task ApproveTools_ApprovedEditedAndRefused_EachWaitsThenRunsAsAnsweredAndTheModelIsToldTheRefusal()
    {
        const string Reason = "Do not look that one up; it is confidential.";
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var mcp = await LoopbackMcpServer.StartAsync();
        using var client = await RegisterAsync();
        var hookPath = "/hooks/" + Guid.NewGuid().ToString("N");
        ApiAssert.Json(await client.SendAsync(HttpMethod.Post, "webhooks", new { url = receiver.Url(hookPath), events = new[] { "task.waiting_human" } }),
            HttpStatusCode.Created);
        var serverId = await client.RegisterToolServerAsync(mcp.Url);
        var (providerId, _) = await client.CreateProviderAsync(new Uri(ModelServer.BaseUri, "v1"));
        string[] asked = ["first", "second", "third"];
        AnswerT1(request => request.AskedToolCalls.Count < asked.Length
            ? FakeReply.ToolCall(request.Offered("lookup"), new { q = asked[request.AskedToolCalls.Count] })
            : FakeReply.Chat("Done: " + string.Join(" | ", request.ToolResults.Select(r => r.Content))));
        var lookup = $"{serverId}/lookup";

        var runId = (await client.StartRunAsync(new
        {
            task = Goal,
            provider_id = providerId,
            plan = OneTaskPlan,
            tools = new[] { lookup },
            approve_tools = new[] { lookup },
        })).Str("run_id");

        // 1. Approved as asked.
        var first = await WaitForPendingCallAsync(client, runId, "first");
        var firstPending = RunGraph.Task(first, "T1")["pending_tool_call"]!;
        var hooks = await receiver.WaitForAsync(hookPath, 1, TimeSpan.FromSeconds(30));
        Assert.Multiple(() =>
        {
            Assert.That(first.Str("status"), Is.EqualTo("waiting_human"));
            Assert.That(RunGraph.WaitingOn(first), Is.EqualTo(new[] { "T1" }));
            Assert.That(RunGraph.Task(first, "T1").Str("state"), Is.EqualTo("waiting_human"));
            Assert.That(firstPending.Str("tool"), Is.EqualTo(lookup));
            Assert.That(firstPending["input_schema"]!["properties"]!["q"]!["type"]!.GetValue<string>(), Is.EqualTo("string"));
            Assert.That(ToolCalls(RunGraph.Task(first, "T1")).Single().Str("state"), Is.EqualTo("waiting_human"));
            Assert.That(mcp.LookedUp, Is.Empty, "nothing is called before the person answers");
            Assert.That(hooks[0].Type, Is.EqualTo("task.waiting_human"));
            Assert.That(hooks[0].Json["data"]!.Str("run_id"), Is.EqualTo(runId));
            Assert.That(hooks[0].Json["data"]!["event"]!["data"]!["pending_tool_call"]!.Str("call_id"), Is.EqualTo(firstPending.Str("call_id")));
        });
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { approved = true }), HttpStatusCode.OK);

        // 2. An edit the schema refuses changes nothing; an edit it takes is made instead of the call asked for.
        var second = await WaitForPendingCallAsync(client, runId, "second");
        var refusedEdit = await client.CompleteAsync(runId, "T1", new { approved = true, arguments = new { q = 42 } });
        ApiAssert.Invalid(refusedEdit, "arguments.q");
        var unchanged = await client.GetRunAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(RunGraph.Task(unchanged, "T1")["pending_tool_call"]!.ToJsonString(), Is.EqualTo(RunGraph.Task(second, "T1")["pending_tool_call"]!.ToJsonString()));
            Assert.That(unchanged.Str("status"), Is.EqualTo("waiting_human"));
            Assert.That(unchanged.Str("updated_at"), Is.EqualTo(second.Str("updated_at")), "the refused answer stored nothing");
            Assert.That(mcp.LookedUp, Is.EqualTo(new[] { "first" }));
        });
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { approved = true, arguments = new { q = "edited" } }), HttpStatusCode.OK);

        // 3. Refused with a reason: not made, and the model reads the reason as the call's outcome.
        await WaitForPendingCallAsync(client, runId, "third");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { approved = false, feedback = Reason }), HttpStatusCode.OK);
        var done = await client.WaitForStatusAsync(runId, "completed");

        var calls = ToolCalls(RunGraph.Task(done, "T1"));
        var last = ModelServer.Requests.Last(r => r.TaskId == "T1");
        var events = await client.EventsAsync(runId);
        var allHooks = await receiver.WaitForAsync(hookPath, 3, TimeSpan.FromSeconds(30));
        Assert.Multiple(() =>
        {
            Assert.That(mcp.LookedUp, Is.EqualTo(new[] { "first", "edited" }), "the approved call and the edited one, each once; never the refused one");
            Assert.That(calls.Select(c => c.Str("state")), Is.EqualTo(new[] { "completed", "completed", "rejected" }));
            Assert.That(calls.Select(c => c["arguments"]!["q"]!.ToString()), Is.EqualTo(new[] { "first", "edited", "third" }));
            Assert.That(calls[1].Str("result"), Is.EqualTo("found: edited"));
            Assert.That(calls[2].Str("feedback"), Is.EqualTo(Reason));
            Assert.That(last.ToolResults.Select(r => r.Content).Last(), Does.Contain(Reason));
            Assert.That(RunGraph.Task(done, "T1")["pending_tool_call"], Is.Null);
            // Asked (started), waiting, then let through (started again, data.approved) and made; or refused.
            Assert.That(EventTypesFor(events, calls[0].Str("call_id")),
                Is.EqualTo(new[] { "task.tool_call.started", "task.tool_call.waiting_human", "task.tool_call.started", "task.tool_call.completed" }));
            Assert.That(events.Where(e => e.Str("type") == "task.tool_call.started" && e["data"]!.Str("call_id") == calls[1].Str("call_id"))
                .Select(e => e["data"]!["approved"]?.GetValue<bool>()), Is.EqualTo(new bool?[] { null, true }));
            Assert.That(EventTypesFor(events, calls[2].Str("call_id")),
                Is.EqualTo(new[] { "task.tool_call.started", "task.tool_call.waiting_human", "task.tool_call.rejected" }));
            Assert.That(allHooks.Select(h => h.Json["data"]!["event"]!["data"]!["pending_tool_call"]!.Str("call_id")),
                Is.EquivalentTo(calls.Select(c => c.Str("call_id"))), "one task.waiting_human webhook per call");
            Assert.That(client.Received.Select(r => (int)r.Status), Is.All.LessThan(500));
        });
    }

    /// <summary>Waits until T1 waits on a call of lookup asking for <paramref name="q"/>; returns the run then.</summary>
    static Task<JsonNode> WaitForPendingCallAsync(OrchflowClient client, string runId, string q) =>
        client.WaitForRunAsync(runId, r => r.Str("status") == "waiting_human" &&
                                           RunGraph.Task(r, "T1")["pending_tool_call"]?["arguments"]?["q"]?.ToString() == q);
}
