using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// How many live streams one account may hold open on an instance: one more is answered 429 with <c>Retry-After</c>
/// until one ends, and other accounts are not held back.
/// </summary>
[TestFixture]
public sealed class StreamQuotaTests : HostedTests
{
    const int MaxPerCaller = 2;

    protected override IReadOnlyDictionary<string, string> HostSettings { get; } = new Dictionary<string, string>
    {
        ["Orchflow__Streams__MaxPerCaller"] = MaxPerCaller.ToString(),
    };

    [Test]
    public async Task Stream_OneMoreThanAnAccountMayHold_Gets429UntilOneEnds_WhileAnotherAccountStreams()
    {
        using var client = await RegisterAsync();
        using var other = await RegisterAsync();
        var runId = await WaitingRunAsync(client);
        var othersRun = await WaitingRunAsync(other);
        using var watcher = new EventStreamClient(Host.BaseAddress, client.ApiKey!);
        using var otherWatcher = new EventStreamClient(Host.BaseAddress, other.ApiKey!);

        var held = new List<EventStream>();
        for (var i = 0; i < MaxPerCaller; i++)
        {
            held.Add(await watcher.OpenAsync(runId));
        }

        await using var refused = await watcher.OpenAsync(runId);
        var refusedBody = JsonNode.Parse(await refused.Response.Content.ReadAsStringAsync());
        await using var othersStream = await otherWatcher.OpenAsync(othersRun);
        await held[0].DisposeAsync();
        var again = await OpenOnceFreedAsync(watcher, runId);
        await using var _ = again;

        Assert.Multiple(() =>
        {
            Assert.That(held.Select(s => s.Response.StatusCode), Is.All.EqualTo(HttpStatusCode.OK));
            Assert.That(refused.Response.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
            Assert.That(refusedBody?["code"]?.GetValue<string>(), Is.EqualTo("rate_limited"));
            Assert.That(refused.Response.Headers.RetryAfter?.Delta, Is.GreaterThan(TimeSpan.Zero));
            Assert.That(othersStream.Response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "another account has streams of its own");
            Assert.That(again.Response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a stream that ended gave its place back");
        });

        foreach (var stream in held.Skip(1))
        {
            await stream.DisposeAsync();
        }
    }

    /// <summary>The host hears a client went away when its next write fails or the connection closes: tries for a while.</summary>
    static async Task<EventStream> OpenOnceFreedAsync(EventStreamClient watcher, string runId)
    {
        for (var attempt = 0; ; attempt++)
        {
            var stream = await watcher.OpenAsync(runId);
            if (stream.Response.StatusCode != HttpStatusCode.TooManyRequests || attempt == 100)
            {
                return stream;
            }

            await stream.DisposeAsync();
            await Task.Delay(100);
        }
    }

    static async Task<string> WaitingRunAsync(OrchflowClient client)
    {
        var runId = (await client.StartRunAsync(new { task = RunScenarios.Goal, ask_me_about = new[] { "company details" } })).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");
        return runId;
    }
}

/// <summary>A stream lives at most its lifetime, then ends whole; the client resumes with <c>Last-Event-ID</c> and misses nothing.</summary>
[TestFixture]
public sealed class StreamLifetimeTests : HostedTests
{
    protected override IReadOnlyDictionary<string, string> HostSettings { get; } = new Dictionary<string, string>
    {
        ["Orchflow__Streams__MaxLifetimeSeconds"] = "2",
        ["Orchflow__Streams__HeartbeatSeconds"] = "1",
    };

    [Test]
    public async Task Stream_OpenPastItsLifetime_EndsAndResumesWithLastEventIdMissingNothing()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = RunScenarios.Goal, ask_me_about = new[] { "company details" } })).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");
        using var watcher = new EventStreamClient(Host.BaseAddress, client.ApiKey!);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new List<SseItem<JsonObject>>();

        await using (var first = await watcher.OpenAsync(runId))
        {
            // Read until the host ends the stream by itself: the run waits on its person all the while.
            await foreach (var item in first.Events(limit.Token))
            {
                seen.Add(item);
            }
        }

        var endedBeforeTheRun = !limit.IsCancellationRequested && seen.All(i => i.EventType != "run.completed");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "We build workflow APIs." }), HttpStatusCode.OK);
        await client.WaitForStatusAsync(runId, "completed");
        await using (var resumed = await watcher.OpenAsync(runId, lastEventId: seen.Last(i => i.EventId is not null).EventId))
        {
            await foreach (var item in resumed.Events(limit.Token))
            {
                seen.Add(item);
            }
        }

        var log = await client.EventsAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(endedBeforeTheRun, Is.True, "the stream ended at its lifetime, with the run still waiting");
            Assert.That(seen.Where(i => i.EventId is not null).Select(i => i.EventId), Is.EqualTo(log.Select(e => e["sequence"]!.ToString())),
                "every event once, in order, across the two streams");
        });
    }
}
