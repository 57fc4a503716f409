using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using NUnit.Framework.Interfaces;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Durability;

/// <summary>
/// Two standalone hosts as two workers on one task hub and one set of tables, the way two <c>scripts/dev.sh</c> on one
/// data folder run: they share the work, and when one is killed mid-run the other finishes every run and records each
/// task's output once. Each host's managed model is the same loopback server under its own path, so every model call
/// says which worker made it, and each call reports the same usage, so a task's usage shows how many calls it recorded.
/// </summary>
[TestFixture]
// Beside another fixture: hosts of its own that mostly wait for leases and model calls, on tables and a task hub no other fixture uses.
[Parallelizable(ParallelScope.Self)]
public sealed partial class ScaleOutTests
{
    const int RunCount = 6;
    const string Answer = "Company: Orchflow, a workflow API. Voice: plain and exact.";
    const string Survivor = "b";

    /// <summary>What one model call reports, whoever makes it (the fake's default usage).</summary>
    static readonly (long In, long Out) OneCall = (11, 7);

    /// <summary>Long enough that the kill lands while agents of every run are at their model calls.</summary>
    static readonly TimeSpan AgentLatency = TimeSpan.FromSeconds(5);

    /// <summary>Well over what the local lease and visibility settings need (about 12 s, then the work left).</summary>
    static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(90);

    /// <summary>The human's context and two independent agents first, the writer once all three are done.</summary>
    const string FourTaskPlan = """
        {"tasks": [
          {"task_id": "T1", "name": "Provide company details", "description": "The company details the memo needs.", "kind": "human", "agent": "", "depends_on": [], "prompt": "Tell us your company details: product, audience, brand voice."},
          {"task_id": "T2", "name": "Research competitors", "description": "The main competitors and their pricing.", "kind": "agent", "agent": "research", "depends_on": [], "prompt": ""},
          {"task_id": "T3", "name": "Compare positioning", "description": "How the competitors position themselves.", "kind": "agent", "agent": "analyst", "depends_on": [], "prompt": ""},
          {"task_id": "T4", "name": "Write the launch memo", "description": "A one-page launch memo.", "kind": "agent", "agent": "writer", "depends_on": ["T1", "T2", "T3"], "prompt": ""}
        ]}
        """;

    const string TwoAgentPlan = """
        {"tasks": [
          {"task_id": "T1", "name": "Research competitors", "description": "The main competitors and their pricing.", "kind": "agent", "agent": "research", "depends_on": [], "prompt": ""},
          {"task_id": "T2", "name": "Compare positioning", "description": "How the competitors position themselves.", "kind": "agent", "agent": "analyst", "depends_on": [], "prompt": ""}
        ]}
        """;

    readonly List<OrchflowHost> hosts = [];
    readonly ConcurrentQueue<ModelCall> calls = new();
    FakeChatServer server = null!;
    string plan = FourTaskPlan;

    [OneTimeSetUp]
    public async Task StartServerAsync() => server = await FakeChatServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopServerAsync() => await server.DisposeAsync();

    [SetUp]
    public void AnswerLikeAModel()
    {
        server.Reset();
        server.Responder = Respond;
        calls.Clear();
        plan = FourTaskPlan;
    }

    [TearDown]
    public async Task StopHostsAsync()
    {
        var failed = TestContext.CurrentContext.Result.Outcome.Status == TestStatus.Failed;
        foreach (var host in hosts)
        {
            if (failed)
            {
                await TestContext.Out.WriteLineAsync($"Output of the host on port {host.Port}:\n{host.Output}");
            }

            await TestHosts.EndAsync(host);
        }

        hosts.Clear();
    }

    [Test]
    public async Task KillOneOfTwoHosts_RunsInFlightOnBoth_SurvivorCompletesEveryRunRecordingEachTaskOnce()
    {
        // Each worker takes a few activities at once, fewer than the runs' agent tasks (twelve), so both hold some when
        // the kill lands. With a hundred each, whichever worker's poll of the shared work-item queue comes first drains
        // the whole burst while the other sleeps out its polling interval. The survivor takes enough to redo the killed
        // worker's share and run every writer in one go.
        var a = await StartHostAsync("a", settings: AtOnce(3));
        var b = await StartHostAsync(Survivor, joining: a, settings: AtOnce(9));
        var partitions = await WaitForPartitionsSharedAsync(a.TaskHub);
        using var viaA = await OrchflowClient.RegisterAsync(a.BaseAddress);
        using var viaB = new OrchflowClient(b.BaseAddress, viaA.ApiKey);

        var runs = new List<string>();
        for (var i = 0; i < RunCount; i++)
        {
            var through = i % 2 == 0 ? viaA : viaB;
            var started = await through.StartRunAsync(new { task = Goal(i), ask_me_about = new[] { "company details" } });
            runs.Add(started.Str("run_id"));
        }

        // Every run waits for its human while agents are at their model calls on both hosts.
        await WaitUntilAsync(async () =>
        {
            foreach (var runId in runs)
            {
                // No subtasks yet while the run is planned.
                if ((await viaB.GetRunAsync(runId))["subtasks"]?["T1"]?["state"]?.GetValue<string>() != "waiting_human")
                {
                    return false;
                }
            }

            return InFlight("a").Count > 0 && InFlight(Survivor).Count > 0;
        }, TimeSpan.FromSeconds(60), "every run waiting for its human while both hosts run agents");
        var killed = Stopwatch.StartNew();
        await a.KillAsync();
        var beforeKill = calls.ToArray();
        var agentsBefore = beforeKill.Where(c => c.Kind == "agent").ToList();
        var cutOff = agentsBefore.Count(c => c.Host == "a" && Stopwatch.GetElapsedTime(c.At) - killed.Elapsed < AgentLatency);
        var firstAgentToKill = Stopwatch.GetElapsedTime(agentsBefore.Min(c => c.At)) - killed.Elapsed;

        foreach (var runId in runs)
        {
            ApiAssert.Json(await viaB.CompleteAsync(runId, "T1", new { output = Answer }), HttpStatusCode.OK);
        }

        var completedAfter = new Dictionary<string, TimeSpan>();
        while (completedAfter.Count < runs.Count && killed.Elapsed < RecoveryTimeout)
        {
            foreach (var runId in runs.Except(completedAfter.Keys).ToList())
            {
                if ((await viaB.GetRunAsync(runId)).Str("status") is "completed" or "failed" or "cancelled")
                {
                    completedAfter[runId] = killed.Elapsed;
                }
            }

            await Task.Delay(100);
        }

        var done = new List<(string RunId, JsonNode Run)>();
        foreach (var runId in runs)
        {
            done.Add((runId, await viaB.GetRunAsync(runId)));
        }

        var all = calls.ToArray();
        var redone = all.Where(c => c.Host == Survivor && c.Kind == "agent")
            .Count(c => beforeKill.Any(p => p.Host == "a" && p.Kind == "agent" && p.Case == c.Case && p.TaskId == c.TaskId));
        await TestContext.Out.WriteLineAsync(
            $"Partitions before the kill: {partitions}. Kill {firstAgentToKill.TotalSeconds:0.0} s after the first agent call. " +
            $"Runs in flight at the kill: {runs.Count} (every one waiting for its human), " +
            $"{cutOff} model calls cut off on the killed host, {redone} agent tasks redone by the survivor. " +
            $"Model calls before the kill: {Describe(beforeKill)}; after it: {Describe(all.Skip(beforeKill.Length))}. " +
            $"Runs lost: {runs.Count - done.Count(d => d.Run.Str("status") == "completed")}. " +
            $"Kill to each run completed: {string.Join(", ", completedAfter.Values.Order().Select(t => $"{t.TotalSeconds:0.0} s"))}; " +
            $"to the last: {(completedAfter.Count == runs.Count ? $"{completedAfter.Values.Max().TotalSeconds:0.0} s" : "not within the timeout")}.");

        Assert.Multiple(() =>
        {
            Assert.That(beforeKill.Count(c => c.Host == "a" && c.Kind == "agent"), Is.GreaterThan(0), "the killed host ran agents");
            Assert.That(beforeKill.Count(c => c.Host == Survivor && c.Kind == "agent"), Is.GreaterThan(0), "the survivor ran agents before the kill");
            foreach (var (runId, run) in done)
            {
                Assert.That(run.Str("status"), Is.EqualTo("completed"), $"{runId}: {run["error"]?.ToJsonString()}");
                Assert.That(RunGraph.Tasks(run).Select(RunGraph.State), Is.All.EqualTo("completed"), RunGraph.Describe(run));
                Assert.That(RunGraph.Task(run, "T1").Str("output"), Is.EqualTo(Answer), runId);
                Assert.That(run.Str("final_output"), Is.EqualTo($"Final answer from host {Survivor}."), $"{runId}: synthesized after the kill");
                foreach (var agent in RunGraph.OfKind(run, "agent"))
                {
                    var taskId = RunGraph.Id(agent);
                    // One output, from one call of one host, and the usage of exactly one call.
                    Assert.That(agent.Str("output"), Does.Match($"^Output of {taskId} from host [ab]\\.$"), $"{runId} {taskId}");
                    Assert.That(RunGraph.Usage(agent), Is.EqualTo(OneCall), $"{runId} {taskId}: usage of one model call");
                }
            }

            // No worker ever ran a task twice: a task is called again only by the survivor, after the killed host.
            foreach (var task in all.Where(c => c.Kind == "agent").GroupBy(c => (c.Case, c.TaskId)))
            {
                Assert.That(task.GroupBy(c => c.Host).Select(h => h.Count()), Is.All.EqualTo(1), $"case {task.Key.Case} {task.Key.TaskId}: calls per host");
            }

            var syntheses = all.Where(c => c.Kind == "synthesis").ToList();
            Assert.That(syntheses.Select(c => c.Host), Is.All.EqualTo(Survivor));
            Assert.That(syntheses.Select(c => c.Case), Is.EquivalentTo(Enumerable.Range(0, runs.Count)), "one synthesis per run");
        });
    }

    [Test]
    public async Task SlowModelCall_TwoHostsAndAShorterVisibilityTimeout_EachTaskCallsTheModelOnce()
    {
        // Without the renewal of activity locks, each agent's message would show again after 2 s and the other worker
        // would start the same task while the first attempt still waits for the model. (The worker that holds it would
        // not: the backend refuses a message it is already processing.)
        plan = TwoAgentPlan;
        var shortVisibility = new Dictionary<string, string> { ["Orchflow__Durable__WorkItemVisibilityTimeoutSeconds"] = "2" };
        var a = await StartHostAsync("a", settings: shortVisibility);
        await StartHostAsync(Survivor, joining: a, settings: shortVisibility);
        using var client = await OrchflowClient.RegisterAsync(a.BaseAddress);

        var runId = (await client.StartRunAsync(new { task = Goal(0) })).Str("run_id");
        var done = await client.WaitForRunAsync(runId, r => r.Str("status") is "completed" or "failed" or "cancelled", TimeSpan.FromSeconds(60));

        var agents = calls.Where(c => c.Kind == "agent").ToList();
        Assert.Multiple(() =>
        {
            Assert.That(done.Str("status"), Is.EqualTo("completed"), done["error"]?.ToJsonString());
            Assert.That(agents.Select(c => c.TaskId), Is.EquivalentTo(new[] { "T1", "T2" }), $"one model call per agent task: {Describe(agents)}");
            Assert.That(RunGraph.OfKind(done, "agent").Select(RunGraph.Usage), Is.All.EqualTo(OneCall));
        });
    }

    static Dictionary<string, string> AtOnce(int activities) =>
        new() { ["Orchflow__Durable__MaxConcurrentActivities"] = activities.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    async Task<OrchflowHost> StartHostAsync(string name, OrchflowHost? joining = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["Orchflow__TrialRuns"] = "20",
            ["Orchflow__ManagedModel__Provider"] = "openai",
            ["Orchflow__ManagedModel__Model"] = "managed-model",
            ["Orchflow__ManagedModel__Endpoint"] = new Uri(server.BaseUri, $"{name}/v1").ToString(),
            ["Orchflow__ManagedModel__ApiKey"] = "managed-key-" + name,
        };
        if (joining is not null)
        {
            environment["Orchflow__Storage__TablePrefix"] = joining.TablePrefix;
            environment["Orchflow__Durable__TaskHub"] = joining.TaskHub;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var host = await TestHosts.StartAsync(environment);
        hosts.Add(host);
        return host;
    }

    /// <summary>
    /// Waits until the task hub's partitions are split between two workers with none changing hands, so runs start on
    /// both; answers the owners and how many partitions each holds.
    /// </summary>
    static async Task<string> WaitForPartitionsSharedAsync(string taskHub)
    {
        var table = new TableClient(TestEnvironment.Azurite.ConnectionString, taskHub + "Partitions");
        var owners = "";
        await WaitUntilAsync(async () =>
        {
            var leases = new List<TableEntity>();
            await foreach (var lease in table.QueryAsync<TableEntity>())
            {
                leases.Add(lease);
            }

            owners = string.Join(", ", leases.GroupBy(l => l.GetString("CurrentOwner") ?? "none").Select(g => $"{g.Key} {g.Count()}"));
            return leases.Count > 0
                   && leases.All(l => l.GetString("CurrentOwner") is not null && l.GetString("NextOwner") is null)
                   && leases.Select(l => l.GetString("CurrentOwner")).Distinct().Count() == 2;
        }, TimeSpan.FromSeconds(60), "the partitions split between the two hosts");
        return owners;
    }

    static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Not reached within {timeout.TotalSeconds:0} s: {what}.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The agent calls of a host still waiting for their answer (with a second to spare).</summary>
    List<ModelCall> InFlight(string host) =>
        calls.Where(c => c.Host == host && c.Kind == "agent" && Stopwatch.GetElapsedTime(c.At) < AgentLatency - TimeSpan.FromSeconds(1)).ToList();

    FakeReply Respond(ChatRequestRecord request)
    {
        var host = request.Path.Split('/', StringSplitOptions.RemoveEmptyEntries)[0];
        var kind = request.IsPlanner ? "plan" : request.IsSynthesis ? "synthesis" : "agent";
        var taskId = request.TaskId;
        var goal = CaseMarker().Match(request.Body) is { Success: true } c ? int.Parse(c.Groups[1].Value) : -1;
        calls.Enqueue(new ModelCall(host, kind, goal, taskId, Stopwatch.GetTimestamp()));
        return kind switch
        {
            "plan" => FakeReply.Chat(plan),
            "synthesis" => FakeReply.Chat($"Final answer from host {host}."),
            _ => FakeReply.Chat($"Output of {taskId} from host {host}.").After(AgentLatency),
        };
    }

    /// <summary>A goal that names its run, so each model call can be traced to the run it serves.</summary>
    static string Goal(int i) => $"Case {i:00}: research competitors and compare their positioning, then write a launch memo.";

    static string Describe(IEnumerable<ModelCall> calls) =>
        string.Join("; ", calls.GroupBy(c => c.Host).OrderBy(g => g.Key)
            .Select(g => $"host {g.Key} {string.Join(", ", g.GroupBy(c => c.Kind).OrderBy(k => k.Key).Select(k => $"{k.Count()} {k.Key}"))}"));

    /// <summary>One model call as the loopback server received it: which host made it, for which run and task.</summary>
    sealed record ModelCall(string Host, string Kind, int Case, string? TaskId, long At);

    [GeneratedRegex(@"Case (\d\d):")]
    private static partial Regex CaseMarker();
}
