using System.Net;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json.Nodes;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// A run's event log over real HTTP: complete and in order for a run with parallel tasks, a human task and a rejected
/// draft; live as Server-Sent Events, resumable by Last-Event-ID; and conditional reads that answer 304.
/// </summary>
[TestFixture]
public sealed class RunEventsApiTests : HostedTests
{
    static readonly TimeSpan StreamLimit = TimeSpan.FromSeconds(60);

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__Simulated__LatencyMs"] = "200",
        ["Orchflow__Streams__HeartbeatSeconds"] = "1",
    };

    /// <summary>Research branches in parallel, a human task first, and every draft waiting for approval.</summary>
    static readonly object ReviewedRun = new
    {
        task = "Research 3 competitors, then write a launch plan.",
        ask_me_about = new[] { "company details" },
        require_approval = true,
    };

    [Test]
    public async Task GetEvents_RunWithParallelTasksAHumanAndARejectedDraft_AnnouncesEveryStateOnceInOrder()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(ReviewedRun)).Str("run_id");
        await new ApprovalDriver(client, runId, new { approved = false, feedback = "Name the sources." }).DriveToCompletionAsync();

        var run = await client.GetRunAsync(runId);
        var outputs = RunGraph.Tasks(run).Select(t => t["output"]?.GetValue<string>()).OfType<string>().ToList();
        var log = await client.EventsAsync(runId);

        var types = log.Select(e => e.Str("type")).ToList();
        Assert.That(log.Select(e => e["sequence"]!.GetValue<long>()), Is.EqualTo(Enumerable.Range(1, log.Count).Select(i => (long)i)), "numbered from 1 without gaps");
        Assert.Multiple(() =>
        {
            Assert.That(types.Take(3), Is.EqualTo(new[] { "run.queued", "run.planning", "run.planned" }));
            Assert.That(types[^1], Is.EqualTo("run.completed"));
            Assert.That(types.Count(t => t == "run.completed"), Is.EqualTo(1));
            Assert.That(log.Single(e => e.Str("type") == "run.planned")["data"]!["task_count"]!.GetValue<int>(), Is.EqualTo(RunGraph.Tasks(run).Count));
            Assert.That(log.Where(e => e.Str("type") == "task.revision_requested").Select(e => e["data"]!["feedback"]!.GetValue<string>()),
                Is.EqualTo(new[] { "Name the sources." }));
            Assert.That(types, Does.Contain("run.waiting_human").And.Contain("run.running"));
            foreach (var task in RunGraph.Tasks(run))
            {
                var path = log.Where(e => e["task_id"]?.GetValue<string>() == RunGraph.Id(task)).Select(e => e.Str("type")).ToList();
                Assert.That(path, Is.EqualTo(ExpectedPath(task, rejected: path.Contains("task.revision_requested"))), $"{RunGraph.Id(task)}'s events");
            }

            var text = string.Join("\n", log.Select(e => e.ToJsonString()));
            foreach (var output in outputs.Append(run.Str("final_output")))
            {
                Assert.That(text, Does.Not.Contain(output[..Math.Min(60, output.Length)]), "outputs are read from the run, not copied into events");
            }
        });

        // A run in waiting_human was announced with what it waits on, each time it started waiting.
        foreach (var waiting in log.Where(e => e.Str("type") == "run.waiting_human"))
        {
            Assert.That(waiting["data"]!["waiting_on"]!.AsArray(), Is.Not.Empty);
        }
    }

    [Test]
    public async Task Complete_TheAnswersResponse_IsAlreadyInTheLog()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);

        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "We build workflow APIs." }), HttpStatusCode.OK);
        var log = await client.EventsAsync(runId);

        Assert.That(log.Any(e => e.Str("type") == "task.completed" && e["task_id"]?.GetValue<string>() == "T1"), Is.True,
            "the answer and its event are written together");
    }

    [Test]
    public async Task Stream_LiveRun_ShowsItPlanPauseAndFinishThenCloses()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = RunScenarios.Goal, ask_me_about = new[] { "company details" } })).Str("run_id");
        using var watcher = new EventStreamClient(Host.BaseAddress, client.ApiKey!);
        await using var stream = await watcher.OpenAsync(runId);
        using var limit = new CancellationTokenSource(StreamLimit);

        Assert.That(stream.Response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/event-stream"));
        var seen = new List<SseItem<JsonObject>>();
        await foreach (var item in stream.Events(limit.Token))
        {
            seen.Add(item);
            if (item.EventType == "task.waiting_human")
            {
                ApiAssert.Json(await client.CompleteAsync(runId, item.Data.Str("task_id"), new { output = "We build workflow APIs." }), HttpStatusCode.OK);
            }
        }

        var log = await client.EventsAsync(runId);
        // The agents' text as they write it comes between the events: items without an id, never in the log.
        var deltas = seen.Where(i => i.EventType == "task.output.delta").ToList();
        seen = seen.Except(deltas).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(deltas, Is.Not.Empty, "the agents' output streamed as they wrote it");
            Assert.That(deltas.Select(d => d.EventId), Is.All.Null.Or.Empty);
            Assert.That(seen.Select(i => i.EventId), Is.EqualTo(log.Select(e => e["sequence"]!.ToString())), "every event, once, in order");
            Assert.That(seen.Select(i => i.EventType), Is.EqualTo(log.Select(e => e.Str("type"))));
            Assert.That(seen.Select(i => i.Data.ToJsonString()), Is.EqualTo(log.Select(e => e.ToJsonString())), "the stream's data is the event as the log lists it");
            Assert.That(seen[^1].EventType, Is.EqualTo("run.completed"), "the stream closed after the terminal event");
        });
    }

    [Test]
    public async Task Stream_DroppedMidRunAndResumedWithLastEventId_MissesAndRepeatsNothing()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = RunScenarios.Goal, ask_me_about = new[] { "company details" } })).Str("run_id");
        using var watcher = new EventStreamClient(Host.BaseAddress, client.ApiKey!);
        using var limit = new CancellationTokenSource(StreamLimit);
        var seen = new List<SseItem<JsonObject>>();

        await using (var first = await watcher.OpenAsync(runId))
        {
            await foreach (var item in first.Events(limit.Token))
            {
                seen.Add(item);
                if (item.EventType == "task.waiting_human")
                {
                    break; // the connection drops here
                }
            }
        }

        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "We build workflow APIs." }), HttpStatusCode.OK);
        await client.WaitForStatusAsync(runId, "completed");
        await using (var resumed = await watcher.OpenAsync(runId, lastEventId: seen[^1].EventId))
        {
            await foreach (var item in resumed.Events(limit.Token))
            {
                seen.Add(item);
            }
        }

        var log = await client.EventsAsync(runId);
        Assert.That(seen.Select(i => i.EventId), Is.EqualTo(log.Select(e => e["sequence"]!.ToString())));
    }

    [Test]
    public async Task Stream_EndedRun_ReplaysFromAfterAndCloses_ThenAnswers204WhenNothingIsLeft()
    {
        using var client = await RegisterAsync();
        var runId = await RunScenarios.StartCompletedRunAsync(client);
        var log = await client.EventsAsync(runId);
        using var watcher = new EventStreamClient(Host.BaseAddress, client.ApiKey!);
        using var limit = new CancellationTokenSource(StreamLimit);

        var replayed = new List<string?>();
        await using (var stream = await watcher.OpenAsync(runId, query: "?after=2"))
        {
            await foreach (var item in stream.Events(limit.Token))
            {
                replayed.Add(item.EventId);
            }
        }

        await using var done = await watcher.OpenAsync(runId, lastEventId: log[^1]["sequence"]!.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(replayed, Is.EqualTo(log.Skip(2).Select(e => e["sequence"]!.ToString())));
            Assert.That(done.Response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent), "an EventSource stops reconnecting on 204");
        });
    }

    [Test]
    public async Task Stream_QuietRun_SendsAPingCommentAtLeastEveryHeartbeat()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        using var watcher = new EventStreamClient(Host.BaseAddress, client.ApiKey!);
        await using var stream = await watcher.OpenAsync(runId, query: "?after=1000");

        // Nothing happens while the run waits on its human: only pings, one per second at this host's setting.
        using var reader = new StreamReader(stream.Body, Encoding.UTF8);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var pings = 0;
        var started = DateTime.UtcNow;
        while (pings < 2)
        {
            var line = await reader.ReadLineAsync(limit.Token);
            Assert.That(line, Is.Not.Null, "the stream closed");
            pings += line == ": ping" ? 1 : 0;
            Assert.That(line, Is.EqualTo(": ping").Or.Empty, "no event while the run waits");
        }

        Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public async Task EventsOfAnotherAccountsRun_JsonAndStream_Return404()
    {
        using var owner = await RegisterAsync();
        using var other = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(owner);
        using var watcher = new EventStreamClient(Host.BaseAddress, other.ApiKey!);

        var json = await other.SendAsync(HttpMethod.Get, $"runs/{runId}/events");
        await using var stream = await watcher.OpenAsync(runId);

        Assert.Multiple(() =>
        {
            ApiAssert.Problem(json, HttpStatusCode.NotFound, "not_found");
            Assert.That(stream.Response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        });
    }

    [TestCase("?after=-1", "after")]
    [TestCase("?after=1e3", "after")]
    [TestCase("?limit=0", "limit")]
    [TestCase("?limit=1001", "limit")]
    [TestCase("?limit=10&limit=20", "limit")]
    public async Task GetEvents_QueryOutOfRange_Returns422NamingIt(string query, string field)
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);

        ApiAssert.Invalid(await client.SendAsync(HttpMethod.Get, $"runs/{runId}/events{query}"), field);
    }

    [Test]
    public async Task GetEvents_PagesByAfterAndLimit()
    {
        using var client = await RegisterAsync();
        var runId = await RunScenarios.StartCompletedRunAsync(client);

        var page = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, $"runs/{runId}/events?after=2&limit=3"), HttpStatusCode.OK);

        Assert.Multiple(() =>
        {
            Assert.That(page["events"]!.AsArray().Select(e => e!["sequence"]!.GetValue<long>()), Is.EqualTo(new long[] { 3, 4, 5 }));
            Assert.That(page["next_after"]!.GetValue<long>(), Is.EqualTo(5));
            Assert.That(page.Str("run_id"), Is.EqualTo(runId));
        });
    }

    [TestCase("runs/{0}")]
    [TestCase("runs/{0}/tasks")]
    [TestCase("runs/{0}/events")]
    public async Task ConditionalGet_SameTag_Returns304WithNoBody_ThenANewTagOnceTheRunMoves(string pathFormat)
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        var path = string.Format(pathFormat, runId);

        var first = ApiAssertOk(await client.SendAsync(HttpMethod.Get, path));
        var tag = first.Header("ETag")!;
        var again = await client.SendWithHeaderAsync(HttpMethod.Get, path, "If-None-Match", tag);
        var weak = await client.SendWithHeaderAsync(HttpMethod.Get, path, "If-None-Match", "W/" + tag);
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "We build workflow APIs." }), HttpStatusCode.OK);
        var moved = await client.SendWithHeaderAsync(HttpMethod.Get, path, "If-None-Match", tag);

        Assert.Multiple(() =>
        {
            Assert.That(tag, Does.Match("^\"[a-z][0-9]+\"$"), "a strong tag");
            Assert.That(again.Status, Is.EqualTo(HttpStatusCode.NotModified));
            Assert.That(again.Text, Is.Empty);
            Assert.That(again.Header("ETag"), Is.EqualTo(tag));
            Assert.That(weak.Status, Is.EqualTo(HttpStatusCode.NotModified), "If-None-Match compares weakly");
            Assert.That(moved.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(moved.Header("ETag"), Is.Not.EqualTo(tag));
        });
    }

    [Test]
    public async Task ConditionalGet_AnotherAccountsRun_Returns404NotA304()
    {
        using var owner = await RegisterAsync();
        using var other = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(owner);
        var tag = (await owner.SendAsync(HttpMethod.Get, $"runs/{runId}")).Header("ETag")!;

        var response = await other.SendWithHeaderAsync(HttpMethod.Get, $"runs/{runId}", "If-None-Match", tag);

        ApiAssert.Problem(response, HttpStatusCode.NotFound, "not_found");
    }

    static ApiResponse ApiAssertOk(ApiResponse response)
    {
        ApiAssert.Json(response, HttpStatusCode.OK);
        Assert.That(response.Header("ETag"), Is.Not.Null);
        return response;
    }

    /// <summary>The states a task went through, as its events must announce them.</summary>
    static List<string> ExpectedPath(JsonNode task, bool rejected)
    {
        if (task.Str("kind") == "human")
        {
            return ["task.waiting_human", "task.completed"];
        }

        return rejected
            ? ["task.started", "task.waiting_human", "task.revision_requested", "task.waiting_human", "task.completed"]
            : ["task.started", "task.waiting_human", "task.completed"];
    }
}
