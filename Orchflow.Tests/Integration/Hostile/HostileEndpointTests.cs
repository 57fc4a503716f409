using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>
/// One tenant's endpoints turned on the shared worker, through the standalone host on Azurite: a provider and a tool
/// server that answer with a gzip bomb, a body with no end, a byte a second or a redirect to the cloud metadata
/// address, and a tool server listing 1,000 tools. Each fails only what used it, with an error that says what happened
/// (a provider's: the run, through its task; a tool server's: the call, told to the model), while another account's
/// run on the same host, started at the same moment, completes. The host's memory during each is measured by the bench
/// (<c>scripts/bench.sh --only hostile</c>), not here.
/// </summary>
[TestFixture]
public sealed class HostileEndpointTests : HostedTests
{
    public enum Hostility
    {
        GzipBomb,
        Endless,
        Drip,
        RedirectToMetadata,
    }

    const string Goal = "Draft a one-paragraph launch note.";

    static readonly CooperativeModel Cooperative = new(plan: null);

    static readonly object OneTaskPlan = new
    {
        tasks = new[]
        {
            new { task_id = "T1", name = "Draft", description = "Draft the note, looking things up where the tools offered help.", kind = "agent", agent = "writer", depends_on = Array.Empty<string>() },
        },
    };

    FakeChatServer models = null!;
    LoopbackMcpServer tools = null!;

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__TrialRuns"] = "1000",
        ["Orchflow__Models__RequestTimeoutSeconds"] = "3",
        ["Orchflow__Models__MaxAttempts"] = "2",
        ["Orchflow__Models__RetryBaseDelayMs"] = "20",
        // A smaller cap than the default 8 MiB, so that a body with no end meets it well before the 3 s timeout.
        ["Orchflow__Models__MaxResponseBytes"] = "1048576",
        ["Orchflow__Tools__CallTimeoutMs"] = "3000",
        ["Orchflow__Tools__ConnectTimeoutMs"] = "3000",
    };

    protected override bool EachTestEndsAtRest => true;

    protected override async Task BeforeHostStartsAsync()
    {
        models = await FakeChatServer.StartAsync();
        tools = await LoopbackMcpServer.StartAsync();
    }

    [OneTimeTearDown]
    public async Task StopServersAsync()
    {
        await models.DisposeAsync();
        await tools.DisposeAsync();
    }

    [SetUp]
    public void Honest()
    {
        models.Reset();
        models.Responder = Cooperative.Answer;
        tools.Honest();
    }

    [TestCase(Hostility.GzipBomb, "provider's answer was longer than 1 MiB (as sent or once decompressed)")]
    [TestCase(Hostility.Endless, "provider's answer was longer than 1 MiB (as sent or once decompressed)")]
    [TestCase(Hostility.Drip, "did not answer within 3 s on all 2 attempts")]
    [TestCase(Hostility.RedirectToMetadata, "answered HTTP 307, a redirect to http://169.254.169.254. Orchflow follows no redirects")]
    public async Task Run_HostileProvider_OnlyItsRunFailsSayingWhyAndAnotherAccountsRunCompletes(Hostility hostility, string expected)
    {
        using var tenant = await RegisterAsync();
        using var neighbour = await RegisterAsync();
        var (hostileProvider, hostileKey) = await tenant.CreateProviderAsync(new Uri(models.BaseUri, "v1"));
        var (honestProvider, _) = await neighbour.CreateProviderAsync(new Uri(models.BaseUri, "v1"));
        models.Responder = request => request.Header("Authorization") == "Bearer " + hostileKey && !request.IsPlanner
            ? hostility switch
            {
                Hostility.GzipBomb => HostileReplies.GzipBomb(request.Stream ? "text/event-stream" : "application/json"),
                Hostility.Endless => HostileReplies.EndlessCompletion(),
                Hostility.Drip => HostileReplies.Drip(request.Stream ? "text/event-stream" : "application/json", TimeSpan.FromSeconds(1)),
                _ => HostileReplies.RedirectTo(),
            }
            : Cooperative.Answer(request);

        var (failed, completed) = await BothAsync(
            tenant, new { task = Goal, provider_id = hostileProvider, plan = OneTaskPlan },
            neighbour, new { task = Goal, provider_id = honestProvider, plan = OneTaskPlan });

        Assert.Multiple(() =>
        {
            Assert.That(failed.Str("status"), Is.EqualTo("failed"));
            Assert.That(failed.Str("error"), Does.StartWith("Task T1 failed: ").And.Contain(expected));
            Assert.That(failed.Str("error"), Does.Not.Contain("Exception").And.Not.Contain("   at "), "no exception's own text");
            Assert.That(RunGraph.Task(failed, "T1").Str("state"), Is.EqualTo("failed"));
            Assert.That(completed.Str("status"), Is.EqualTo("completed"), completed["error"]?.ToString());
            Assert.That(completed.Str("final_output"), Is.EqualTo(CooperativeModel.FinalAnswer));
            Assert.That(Host.IsRunning, Is.True, "the host is still up");
        });
    }

    [TestCase(Hostility.GzipBomb, "is not usable: it answered more than 4 MiB")]
    [TestCase(Hostility.Endless, "is not usable: it answered more than 4 MiB")]
    [TestCase(Hostility.Drip, "did not answer within 3 s")]
    [TestCase(Hostility.RedirectToMetadata, "a redirect to http://169.254.169.254/latest/meta-data/iam/security-credentials/); redirects are not followed")]
    public async Task Run_HostileToolServer_OnlyTheCallFailsSayingWhyAndAnotherAccountsRunCompletes(Hostility hostility, string expected)
    {
        using var tenant = await RegisterAsync();
        using var neighbour = await RegisterAsync();
        var serverId = await tenant.RegisterToolServerAsync(tools.Url);
        var (provider, key) = await tenant.CreateProviderAsync(new Uri(models.BaseUri, "v1"));
        var (honestProvider, _) = await neighbour.CreateProviderAsync(new Uri(models.BaseUri, "v1"));
        tools.OnToolCalls(hostility switch
        {
            Hostility.GzipBomb => HostileReplies.GzipBomb("application/json"),
            Hostility.Endless => HostileReplies.Endless("text/event-stream", ": still here\n"),
            Hostility.Drip => HostileReplies.Drip("application/json", TimeSpan.FromSeconds(1)),
            _ => HostileReplies.RedirectTo(),
        });
        models.Responder = request => request.Header("Authorization") == "Bearer " + key && request.TaskId == "T1"
            ? request.AskedToolCalls.Count == 0
                ? FakeReply.ToolCall(request.Offered("lookup"), new { q = "pricing" })
                : FakeReply.Chat("Could not look it up: " + request.ToolResults.Single().Content)
            : Cooperative.Answer(request);

        var (used, completed) = await BothAsync(
            tenant, new { task = Goal, provider_id = provider, plan = OneTaskPlan, tools = new[] { $"{serverId}/lookup" } },
            neighbour, new { task = Goal, provider_id = honestProvider, plan = OneTaskPlan });

        var call = RunGraph.Task(used, "T1")["tool_calls"]!.AsArray().Single()!;
        Assert.Multiple(() =>
        {
            Assert.That(call.Str("state"), Is.EqualTo("failed"));
            Assert.That(call.Str("error"), Does.StartWith($"The tool server {serverId}").And.Contain(expected));
            Assert.That(used.Str("status"), Is.EqualTo("completed"), "the model was told and finished the task: " + used["error"]);
            Assert.That(RunGraph.Task(used, "T1").Str("output"), Does.StartWith("Could not look it up: ").And.Contain(expected));
            Assert.That(completed.Str("status"), Is.EqualTo("completed"), completed["error"]?.ToString());
        });
    }

    [Test]
    public async Task Run_ToolServerListingAThousandTools_128KeptAndARunUsingThemCompletes()
    {
        await using var crowded = await LoopbackMcpServer.StartAsync(extraTools: 1000);
        using var tenant = await RegisterAsync();
        using var neighbour = await RegisterAsync();
        var registered = ApiAssert.Json(await tenant.SendAsync(HttpMethod.Post, "tool-servers", new { url = crowded.Url }), HttpStatusCode.Created);
        var serverId = registered.Str("server_id");
        var (provider, key) = await tenant.CreateProviderAsync(new Uri(models.BaseUri, "v1"));
        var (honestProvider, _) = await neighbour.CreateProviderAsync(new Uri(models.BaseUri, "v1"));
        models.Responder = request => request.Header("Authorization") == "Bearer " + key && request.TaskId == "T1"
            ? request.AskedToolCalls.Count == 0
                ? FakeReply.ToolCall(request.Offered("lookup"), new { q = "one of many" })
                : FakeReply.Chat("Used: " + request.ToolResults.Single().Content)
            : Cooperative.Answer(request);

        var (used, completed) = await BothAsync(
            tenant, new { task = Goal, provider_id = provider, plan = OneTaskPlan, tools = new[] { $"{serverId}/lookup", $"{serverId}/extra_0100" } },
            neighbour, new { task = Goal, provider_id = honestProvider, plan = OneTaskPlan });

        Assert.Multiple(() =>
        {
            Assert.That(registered["tools"]!.AsArray(), Has.Count.EqualTo(128));
            Assert.That(registered["tools_truncated"]!.GetValue<bool>(), Is.True);
            Assert.That(used.Str("status"), Is.EqualTo("completed"), used["error"]?.ToString());
            Assert.That(RunGraph.Task(used, "T1")["tool_calls"]!.AsArray().Single()!.Str("state"), Is.EqualTo("completed"));
            Assert.That(RunGraph.Task(used, "T1").Str("output"), Is.EqualTo("Used: found: one of many"));
            Assert.That(completed.Str("status"), Is.EqualTo("completed"), completed["error"]?.ToString());
        });
    }

    /// <summary>Starts both runs at once and waits for each to end; the first is the hostile tenant's.</summary>
    static async Task<(JsonNode Tenant, JsonNode Neighbour)> BothAsync(OrchflowClient tenant, object tenantRun, OrchflowClient neighbour, object neighbourRun)
    {
        var started = await Task.WhenAll(tenant.StartRunAsync(tenantRun), neighbour.StartRunAsync(neighbourRun));
        var ended = await Task.WhenAll(
            tenant.WaitForRunAsync(started[0].Str("run_id"), Ended, TimeSpan.FromSeconds(90)),
            neighbour.WaitForRunAsync(started[1].Str("run_id"), Ended, TimeSpan.FromSeconds(90)));
        return (ended[0], ended[1]);
    }

    static bool Ended(JsonNode run) => run.Str("status") is "completed" or "failed" or "cancelled";

}
