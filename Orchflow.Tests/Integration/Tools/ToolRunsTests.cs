using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Tools;

/// <summary>
/// Agents that act, through real HTTP against the standalone host (docs/api.md, "Tools: what an agent may call"): runs
/// whose agent task calls the tools of MCP servers registered with <c>POST /tool-servers</c> — the MCP reference server
/// and the tests' own — and <c>fetch_url</c>, on an OpenAI-compatible provider (the loopback model server, speaking
/// <c>tool_calls</c>) and on the simulated model. What each call did is read where a user reads it: the task's
/// <c>tool_calls</c>, the run's events, and the next request the model got.
/// </summary>
[TestFixture]
public sealed partial class ToolRunsTests : HostedModelTests
{
    const string Goal = "Look up the facts the launch needs and report them.";

    McpEverything everything = null!;

    protected override CooperativeModel Cooperative { get; } = new(plan: null);

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__TrialRuns"] = "1000",
        ["Orchflow__Models__RetryBaseDelayMs"] = "20",
        ["Orchflow__Tools__ConnectTimeoutMs"] = "3000",
        ["Orchflow__Tools__CallTimeoutMs"] = "3000",
        ["Orchflow__Webhooks__TimeoutSeconds"] = "2",
    };

    protected override async Task BeforeHostStartsAsync()
    {
        await base.BeforeHostStartsAsync();
        everything = await McpEverything.StartAsync();
    }

    [OneTimeTearDown]
    public async Task StopToolServerAsync()
    {
        if (everything is not null)
        {
            await everything.DisposeAsync();
        }
    }

    /// <summary>One agent task, T1, so every call the model asks for is that task's.</summary>
    static readonly object OneTaskPlan = new
    {
        tasks = new[]
        {
            new { task_id = "T1", name = "Look things up", description = "Find the facts with the tools offered.", kind = "agent", agent = "research", depends_on = Array.Empty<string>() },
        },
    };

    [Test]
    public async Task Run_ProviderCallsServerEverythingTools_CallsOnTheTaskEventsLoggedAndResultsInTheModelsNextRequest()
    {
        using var client = await RegisterAsync();
        var serverId = await client.RegisterToolServerAsync(everything.Url);
        var (providerId, _) = await client.CreateProviderAsync(new Uri(ModelServer.BaseUri, "v1"));
        AnswerT1(request => request.AskedToolCalls.Count == 0
            ? FakeReply.ToolCalls(
                FakeToolCall.Of(request.Offered("echo"), new { message = "tool loop works" }),
                FakeToolCall.Of(request.Offered("get-sum"), new { a = 2, b = 3 }))
            : FakeReply.Chat("Found: " + string.Join(" | ", request.ToolResults.Select(r => r.Content))));

        var runId = (await client.StartRunAsync(new
        {
            task = Goal,
            provider_id = providerId,
            plan = OneTaskPlan,
            tools = new[] { $"{serverId}/echo", $"{serverId}/get-sum" },
        })).Str("run_id");
        var done = await client.WaitForStatusAsync(runId, "completed");

        var task = RunGraph.Task(done, "T1");
        var calls = ToolCalls(task);
        var asks = ModelServer.Requests.Where(r => r.TaskId == "T1").ToList();
        var events = await client.EventsAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(calls.Select(c => c.Str("tool")), Is.EqualTo(new[] { $"{serverId}/echo", $"{serverId}/get-sum" }));
            Assert.That(calls.Select(c => c.Str("state")), Is.All.EqualTo("completed"));
            Assert.That(calls.Select(c => c.Str("call_id")), Is.All.StartWith("tc_"));
            Assert.That(calls[0]["arguments"]!["message"]!.GetValue<string>(), Is.EqualTo("tool loop works"));
            Assert.That(calls[0].Str("result"), Does.Contain("tool loop works"), "server-everything echoes the message");
            Assert.That(calls[1].Str("result"), Does.Contain("5"), "server-everything adds 2 and 3");
            Assert.That(calls.Select(c => c["completed_at"]), Is.All.Not.Null);

            Assert.That(asks, Has.Count.EqualTo(2), "one turn asking for both calls, one answering with their results");
            Assert.That(asks.Select(r => r.Stream), Is.All.True, "an agent task streams its model calls");
            Assert.That(asks[0].OfferedTools, Is.EqualTo(new[] { asks[0].Offered("echo"), asks[0].Offered("get-sum") }));
            Assert.That(asks[1].ToolResults.Select(r => r.CallId), Is.EqualTo(asks[1].AskedToolCalls.Select(c => c.Id)));
            Assert.That(asks[1].ToolResults.Select(r => r.Content), Is.EqualTo(calls.Select(c => c.Str("result"))));
            Assert.That(task.Str("output"), Does.StartWith("Found: ").And.Contain("tool loop works"));

            foreach (var call in calls)
            {
                Assert.That(EventTypesFor(events, call.Str("call_id")), Is.EqualTo(new[] { "task.tool_call.started", "task.tool_call.completed" }),
                    $"the events of {call.Str("tool")}");
            }

            Assert.That(events.Where(e => e.Str("type").StartsWith("task.tool_call.", StringComparison.Ordinal)).Select(e => e["data"]!.Str("tool")),
                Is.All.StartWith(serverId + "/"));
            Assert.That(ApiAssert.TaskStates(done), Is.EqualTo(new[] { ("T1", "completed") }));
        });
    }

    /// <summary>The model answers T1 with <paramref name="answer"/>, and every other call (the synthesis) cooperatively.</summary>
    void AnswerT1(Func<ChatRequestRecord, FakeReply> answer) =>
        ModelServer.Responder = request => request.TaskId == "T1" ? answer(request) : Cooperative.Answer(request);

    static List<JsonNode> ToolCalls(JsonNode task) => task["tool_calls"]!.AsArray().Select(c => c!).ToList();

    /// <summary>The types of the run's events about one tool call, in order.</summary>
    static List<string> EventTypesFor(IEnumerable<JsonNode> events, string callId) =>
        events.Where(e => e["data"]?["call_id"]?.GetValue<string>() == callId).Select(e => e.Str("type")).ToList();
}
