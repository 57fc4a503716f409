using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using NUnit.Framework.Interfaces;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Durability;

/// <summary>
/// Runs survive the standalone host going away, gracefully or by a crash: over real HTTP, on Azurite, with the
/// host restarted on the same tables and task hub.
/// </summary>
[TestFixture]
// Beside another fixture: hosts of its own that mostly wait for leases and redeliveries, on tables and a task hub no other fixture uses.
[Parallelizable(ParallelScope.Self)]
public sealed partial class RestartTests
{
    /// <summary>Long enough for a crashed activity's redelivery (visibility timeout) and the partition leases to move.</summary>
    static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// A crashed process's partitions and taken messages are the next one's after 4 s, not the standalone host's 10 s:
    /// what these tests show is that nothing is lost, and the scale-out tests run on the defaults.
    /// </summary>
    static readonly Dictionary<string, string> QuickTakeover = new()
    {
        ["Orchflow__Durable__LeaseIntervalSeconds"] = "4",
        ["Orchflow__Durable__LeaseAcquireIntervalSeconds"] = "1",
        ["Orchflow__Durable__WorkItemVisibilityTimeoutSeconds"] = "4",
    };

    /// <summary>Slow agents, so a restart lands while they run.</summary>
    static readonly Dictionary<string, string> SlowAgents = new()
    {
        ["Orchflow__Simulated__LatencyMs"] = "1000",
    };

    const string Goal = "Research 3 competitors, find their pricing pages, gather customer reviews, compare positioning, then write a launch memo.";

    OrchflowHost? host;

    [TearDown]
    public async Task StopHostAsync()
    {
        if (host is null)
        {
            return;
        }

        if (TestContext.CurrentContext.Result.Outcome.Status == TestStatus.Failed)
        {
            await TestContext.Out.WriteLineAsync("Host output:\n" + host.Output);
        }

        await TestHosts.EndAsync(host);
        host = null;
    }

    [Test]
    public async Task CrashWhileWaitingForHuman_AnswerOnTheNewProcess_RunCompletesWithTheAnswer()
    {
        host = await StartHostAsync();
        using var client = await OrchflowClient.RegisterAsync(host.BaseAddress);
        var runId = await StartAsync(client, new { task = Goal, ask_me_about = new[] { "company details" } });
        var waiting = await client.WaitForStatusAsync(runId, "waiting_human");
        Assert.That(waiting["waiting_on"]!.AsArray().Select(n => n!.GetValue<string>()), Is.EqualTo(new[] { "T1" }));

        await host.RestartAsync(kill: true);

        const string answer = "Company: Orchflow, a workflow API. Voice: plain and exact.";
        var completed = await client.CompleteAsync(runId, "T1", new { output = answer });
        Assert.That(completed.Status, Is.EqualTo(HttpStatusCode.OK), completed.Text);
        var done = await client.WaitForStatusAsync(runId, "completed", RecoveryTimeout);
        Assert.Multiple(() =>
        {
            Assert.That(done["final_output"]!.GetValue<string>(), Does.Contain(answer));
            Assert.That(TaskStates(done), Is.All.EqualTo("completed"));
        });
    }

    [TestCase(false, TestName = "GracefulRestartWhileAgentsRun_RunCompletesWithEveryTaskCompleted")]
    [TestCase(true, TestName = "KillWhileAgentsRun_RunCompletesOnTheNextProcess")]
    public async Task RestartWhileAgentsRun_RunCompletesWithEveryTaskCompleted(bool kill)
    {
        host = await StartHostAsync(SlowAgents);
        using var client = await OrchflowClient.RegisterAsync(host.BaseAddress);
        var runId = await StartAsync(client, new { task = Goal });
        var running = await client.WaitForRunAsync(runId, r => TaskStates(r).Contains("running"));
        Assert.That(TaskStates(running), Does.Contain("pending"), "precondition: the restart lands before the run is nearly done");

        await host.RestartAsync(kill);

        await AssertCompletesAsync(client, runId);
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Restart_RunsListedBefore_AreListedAfter(bool kill)
    {
        host = await StartHostAsync();
        using var client = await OrchflowClient.RegisterAsync(host.BaseAddress);
        var started = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            started.Add(await StartAsync(client, new { task = $"Write a short note number {i}.", ask_me_about = new[] { "audience" } }));
        }

        var before = await ListAsync(client);
        Assert.That(IdsOf(before), Is.EquivalentTo(started), "precondition: the runs are listed");

        await host.RestartAsync(kill);

        var after = await ListAsync(client);
        Assert.Multiple(() =>
        {
            Assert.That(IdsOf(after), Is.EqualTo(IdsOf(before)), "same runs in the same order");
            Assert.That(after["total"]!.GetValue<int>(), Is.EqualTo(3));
        });
        foreach (var runId in started)
        {
            await client.WaitForStatusAsync(runId, "waiting_human", RecoveryTimeout);
        }
    }

    [Test]
    public async Task GracefulStop_WhileAClientWatchesTheRun_EndsTheStreamReleasesTheLeasesAndTheStreamResumesOnTheNextProcess()
    {
        host = await StartHostAsync();
        using var client = await OrchflowClient.RegisterAsync(host.BaseAddress);
        using var watcher = new EventStreamClient(host.BaseAddress, client.ApiKey!);
        var runId = await StartAsync(client, new { task = Goal, ask_me_about = new[] { "company details" } });
        await client.WaitForStatusAsync(runId, "waiting_human");

        var before = new List<long>();
        await using (var stream = await watcher.OpenAsync(runId))
        {
            var reading = ReadAllAsync(stream, before);
            await WaitUntilAsync(() => Count(before) > 0, "the stream's first events");

            // The stream is open and quiet (the run waits on its human) when the host is asked to stop.
            Assert.That(await host.StopAsync(), Is.True, "the host ended by itself, cleanly, although a client was watching a run");
            Assert.That(async () => await reading.WaitAsync(TimeSpan.FromSeconds(10)), Throws.Nothing, "the stream ended at the stop, its events whole");
        }

        await foreach (var lease in new TableClient(TestEnvironment.Azurite.ConnectionString, host.TaskHub + "Partitions").QueryAsync<TableEntity>())
        {
            Assert.That(lease.GetString("CurrentOwner"), Is.Null.Or.Empty, $"partition {lease.RowKey} released at the stop");
        }

        await host.StartAgainAsync();
        Assert.That((await client.CompleteAsync(runId, "T1", new { output = "Company: Orchflow." })).Status, Is.EqualTo(HttpStatusCode.OK));
        var after = new List<long>();
        await using (var resumed = await watcher.OpenAsync(runId, lastEventId: before[^1].ToString(CultureInfo.InvariantCulture)))
        {
            await ReadAllAsync(resumed, after).WaitAsync(RecoveryTimeout);
        }

        // The resumed stream ends after the run's terminal event, which by then is the run's state.
        var done = await client.GetRunAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(done.Str("status"), Is.EqualTo("completed"), done["error"]?.ToJsonString());
            Assert.That(after, Is.Not.Empty, "the resumed stream went on to the run's end");
            Assert.That(before.Concat(after), Is.EqualTo(Enumerable.Range(1, before.Count + after.Count).Select(i => (long)i)),
                "every event once, in order, across the stop");
        });
    }

    /// <summary>Reads the stream to its end, adding each event's id as it arrives (live output between them has none).</summary>
    static async Task ReadAllAsync(EventStream stream, List<long> ids)
    {
        await foreach (var item in stream.Events())
        {
            if (item.EventId is null)
            {
                continue;
            }

            lock (ids)
            {
                ids.Add(long.Parse(item.EventId!, CultureInfo.InvariantCulture));
            }
        }
    }

    static int Count(List<long> ids)
    {
        lock (ids)
        {
            return ids.Count;
        }
    }

    static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"not reached within 30 s: {what}");
            await Task.Delay(50);
        }
    }

    static Task<OrchflowHost> StartHostAsync(IReadOnlyDictionary<string, string>? settings = null) =>
        TestHosts.StartAsync(QuickTakeover.Concat(settings ?? new Dictionary<string, string>()).ToDictionary());

    static async Task AssertCompletesAsync(OrchflowClient client, string runId)
    {
        var done = await client.WaitForRunAsync(runId, r => r["status"]!.GetValue<string>() is "completed" or "failed" or "cancelled", RecoveryTimeout);
        Assert.Multiple(() =>
        {
            Assert.That(done["status"]!.GetValue<string>(), Is.EqualTo("completed"), done["error"]?.ToJsonString());
            Assert.That(TaskStates(done), Has.Count.GreaterThanOrEqualTo(3));
            Assert.That(TaskStates(done), Is.All.EqualTo("completed"));
            Assert.That(done["final_output"]?.GetValue<string>(), Is.Not.Null.And.Not.Empty);
        });
    }

    static async Task<string> StartAsync(OrchflowClient client, object body) =>
        (await client.StartRunAsync(body))["run_id"]!.GetValue<string>();

    static async Task<JsonNode> ListAsync(OrchflowClient client)
    {
        var response = await client.SendAsync(HttpMethod.Get, "runs?limit=100");
        Assert.That(response.Status, Is.EqualTo(HttpStatusCode.OK), response.Text);
        return response.Json!;
    }

    static List<string> IdsOf(JsonNode list) =>
        list["runs"]!.AsArray().Select(r => r!["run_id"]!.GetValue<string>()).ToList();

    static List<string> TaskStates(JsonNode run) =>
        run["subtasks"]!.AsObject().Select(t => t.Value!["state"]!.GetValue<string>()).ToList();
}
