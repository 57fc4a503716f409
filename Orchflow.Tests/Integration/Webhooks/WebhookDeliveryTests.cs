using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Webhooks;

/// <summary>
/// Webhooks delivered by the standalone host over real HTTP to a loopback receiver, each delivery checked with the
/// Standard Webhooks reference verifier: what arrives and how fast, retries with backoff, Retry-After, 410 Gone,
/// redirects, and a secret rotation. Retries here start after one second so the suite stays quick.
/// </summary>
[TestFixture]
public sealed class WebhookDeliveryTests : HostedTests
{
    WebhookReceiver receiver = null!;

    protected override async Task BeforeHostStartsAsync() => receiver = await WebhookReceiver.StartAsync();

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__Webhooks__FirstRetryDelayMs"] = "1000",
        ["Orchflow__Webhooks__RetryBackoffFactor"] = "2",
        ["Orchflow__Webhooks__MaxAttempts"] = "5",
        ["Orchflow__Webhooks__TimeoutSeconds"] = "2",
        ["Orchflow__TrialRuns"] = "1000",
    };

    [OneTimeTearDown]
    public async Task StopReceiverAsync() => await receiver.DisposeAsync();

    /// <summary>Registers a webhook to the receiver's <paramref name="path"/>; returns its id and secret.</summary>
    async Task<(string Id, string Secret)> RegisterAsync(OrchflowClient client, string path, params string[] events)
    {
        var body = new JsonObject { ["url"] = receiver.Url(path) };
        if (events.Length > 0)
        {
            body["events"] = new JsonArray(events.Select(e => (JsonNode?)e).ToArray());
        }

        var created = ApiAssert.Json(await client.SendRawAsync(HttpMethod.Post, "webhooks", body.ToJsonString()), HttpStatusCode.Created);
        return (created.Str("webhook_id"), created.Str("secret"));
    }

    static async Task AssertVerifiedAsync(IEnumerable<ReceivedWebhook> deliveries, string secret)
    {
        var list = deliveries.ToList();
        var verdicts = await StandardWebhooks.VerifyAsync(list.Select(d => (d, secret)));
        Assert.That(verdicts.Select((v, i) => v is null ? null : $"{list[i].Id} {list[i].Type}: {v}").OfType<string>(), Is.Empty,
            "deliveries the reference verifier rejects");
    }

    [Test]
    public async Task RunWaitingHuman_Webhook_ArrivesSignedWithinASecond()
    {
        using var client = await RegisterAsync();
        var path = "/waiting/" + Guid.NewGuid().ToString("N");
        var (_, secret) = await RegisterAsync(client, path, "run.waiting_human");
        const int runs = 24;
        var latencies = new List<double>();
        var received = new List<ReceivedWebhook>();

        for (var batch = 0; batch < runs / 3; batch++)
        {
            var ids = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                ids.Add((await client.StartRunAsync(new { task = RunScenarios.Goal, ask_me_about = new[] { "company details" } })).Str("run_id"));
            }

            var got = await receiver.WaitForAsync(path, received.Count + ids.Count, TimeSpan.FromSeconds(60));
            foreach (var delivery in got.Skip(received.Count))
            {
                var at = DateTimeOffset.Parse(delivery.Json["data"]!["event"]!["created_at"]!.GetValue<string>());
                latencies.Add((delivery.ReceivedAt - at).TotalMilliseconds);
            }

            received.Clear();
            received.AddRange(got);
        }

        latencies.Sort();
        var median = latencies[latencies.Count / 2];
        var p99 = latencies[(int)Math.Ceiling(latencies.Count * 0.99) - 1];
        await TestContext.Out.WriteLineAsync(
            $"run.waiting_human → webhook received, {latencies.Count} runs: median {median:0} ms, p99 {p99:0} ms, max {latencies[^1]:0} ms");
        await AssertVerifiedAsync(received, secret);
        Assert.Multiple(() =>
        {
            Assert.That(received.Select(r => r.Type), Is.All.EqualTo("run.waiting_human"));
            Assert.That(received.Select(r => r.Json["data"]!["run_id"]!.GetValue<string>()).Distinct().Count(), Is.EqualTo(runs), "one per run");
            Assert.That(median, Is.LessThan(1000), "median");
            Assert.That(p99, Is.LessThan(2000), "p99");
        });
    }

    [Test]
    public async Task EveryEventType_WholeRun_EachEventArrivesOnceAsTheLogShowsItWithTheRunAsItStood()
    {
        using var client = await RegisterAsync();
        var path = "/all/" + Guid.NewGuid().ToString("N");
        var (_, secret) = await RegisterAsync(client, path, Orchflow.Domain.EventTypes.All.ToArray());
        var runId = (await client.StartRunAsync(new { task = RunScenarios.Goal, ask_me_about = new[] { "company details" } })).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "We build workflow APIs." }), HttpStatusCode.OK);
        await client.WaitForStatusAsync(runId, "completed");
        var log = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, $"runs/{runId}/events?limit=1000"), HttpStatusCode.OK)["events"]!.AsArray();

        var got = await receiver.WaitForAsync(path, log.Count, TimeSpan.FromSeconds(30));
        await Task.Delay(500);
        got = receiver.At(path);
        await AssertVerifiedAsync(got, secret);
        var bySequence = got.ToDictionary(d => d.Json["data"]!["sequence"]!.GetValue<long>());
        Assert.Multiple(() =>
        {
            Assert.That(got, Has.Count.EqualTo(log.Count), "one delivery per event");
            Assert.That(got.Select(d => d.Id).Distinct().Count(), Is.EqualTo(got.Count), "a webhook-id per delivery");
            Assert.That(got.Select(d => d.Header("Content-Type")), Is.All.EqualTo("application/json"));
            var status = "queued";
            var waiting = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var e in log.Select(e => e!))
            {
                var sequence = e["sequence"]!.GetValue<long>();
                var type = e.Str("type");
                status = type.StartsWith("run.", StringComparison.Ordinal) && type != "run.planned" ? type["run.".Length..] : status;
                if (e["task_id"] is { } task)
                {
                    if (type == "task.waiting_human")
                    {
                        waiting.Add(task.GetValue<string>());
                    }
                    else
                    {
                        waiting.Remove(task.GetValue<string>());
                    }
                }

                Assert.That(bySequence.TryGetValue(sequence, out var delivery), Is.True, $"event {sequence} ({type}) was not delivered");
                if (delivery is null)
                {
                    continue;
                }

                var body = delivery.Json;
                Assert.That(body.Str("type"), Is.EqualTo(type));
                Assert.That(body.Str("timestamp"), Is.EqualTo(e.Str("created_at")));
                Assert.That(body["data"]!.Str("run_id"), Is.EqualTo(runId));
                Assert.That(body["data"]!.Str("status"), Is.EqualTo(status), $"status at event {sequence}");
                Assert.That(body["data"]!["task_id"]?.ToJsonString(), Is.EqualTo(e["task_id"]?.ToJsonString()));
                Assert.That(body["data"]!["waiting_on"]!.AsArray().Select(w => w!.GetValue<string>()), Is.EqualTo(waiting), $"waiting_on at event {sequence}");
                Assert.That(JsonNode.DeepEquals(body["data"]!["event"], e), Is.True, $"event {sequence} as GET /events shows it: {body["data"]!["event"]!.ToJsonString()} vs {e.ToJsonString()}");
            }
        });
    }

    [Test]
    public async Task FailingEndpoint_500Then503ThenTimeout_RetriedWithGrowingBackoffThenDeliveredUnderOneId()
    {
        using var client = await RegisterAsync();
        var path = "/flaky/" + Guid.NewGuid().ToString("N");
        receiver.Script(path, WebhookReceiver.Status(500), WebhookReceiver.Status(503), WebhookReceiver.Hang(TimeSpan.FromSeconds(5)));
        var (webhookId, secret) = await RegisterAsync(client, path, "run.waiting_human");

        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        var attempts = await receiver.WaitForAsync(path, 4, TimeSpan.FromSeconds(30));
        var delivery = await WaitForDeliveryAsync(client, webhookId, d => d.Str("status") == "succeeded");

        var gaps = attempts.Zip(attempts.Skip(1), (a, b) => (b.ReceivedAt - a.ReceivedAt).TotalSeconds).ToList();
        await TestContext.Out.WriteLineAsync($"Attempts of one delivery, seconds after the one before: {string.Join(", ", gaps.Select(g => g.ToString("0.00")))}");
        await AssertVerifiedAsync(attempts, secret);
        Assert.Multiple(() =>
        {
            Assert.That(attempts.Select(a => a.Id).Distinct(), Has.Exactly(1).Items, "the same webhook-id on every attempt");
            Assert.That(attempts.Select(a => a.Body).Distinct(), Has.Exactly(1).Items, "the same body on every attempt");
            // First retry after 1 s, then 2 s, then 4 s, each ±25 % and rounded up to whole seconds (the queue's unit);
            // the third attempt also waited out its 2 s timeout. The upper bounds leave room for a busy machine.
            Assert.That(gaps[0], Is.InRange(0.7, 4), "first retry");
            Assert.That(gaps[1], Is.InRange(1.4, 5.5), "second retry");
            Assert.That(gaps[2], Is.InRange(2 + 2.9, 2 + 8), "third retry, after the timeout");
            Assert.That(gaps[2] - 2, Is.GreaterThan(gaps[0]), "the backoff grows");
            Assert.That(delivery.Str("run_id"), Is.EqualTo(runId));
            Assert.That(delivery["attempts"]!.GetValue<int>(), Is.EqualTo(4));
            Assert.That(delivery["last_status_code"]!.GetValue<int>(), Is.EqualTo(200));
            Assert.That(delivery.Str("delivery_id"), Is.EqualTo(attempts[0].Id));
            Assert.That(delivery["next_attempt_at"], Is.Null);
        });
    }

    [Test]
    public async Task RetryAfter_LongerThanTheBackoff_NextAttemptWaitsForIt()
    {
        using var client = await RegisterAsync();
        var path = "/busy/" + Guid.NewGuid().ToString("N");
        receiver.Script(path, WebhookReceiver.Status(429, ("Retry-After", "3")));
        var (webhookId, _) = await RegisterAsync(client, path, "run.waiting_human");

        await RunScenarios.StartWaitingRunAsync(client);
        var attempts = await receiver.WaitForAsync(path, 2, TimeSpan.FromSeconds(30));
        var pending = await WaitForDeliveryAsync(client, webhookId, d => d.Str("status") == "succeeded");

        Assert.Multiple(() =>
        {
            Assert.That((attempts[1].ReceivedAt - attempts[0].ReceivedAt).TotalSeconds, Is.InRange(2.9, 6), "waited as Retry-After asked, not the 1 s backoff");
            Assert.That(pending["attempts"]!.GetValue<int>(), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task Gone_410_DisablesTheWebhookAndNothingMoreIsSent()
    {
        using var client = await RegisterAsync();
        var gone = "/gone/" + Guid.NewGuid().ToString("N");
        var alive = "/alive/" + Guid.NewGuid().ToString("N");
        receiver.Always(gone, WebhookReceiver.Status(410));
        var (goneId, _) = await RegisterAsync(client, gone, "run.waiting_human", "run.completed");
        await RegisterAsync(client, alive, "run.waiting_human", "run.completed");

        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        await receiver.WaitForAsync(gone, 1, TimeSpan.FromSeconds(30));
        var failed = await WaitForDeliveryAsync(client, goneId, d => d.Str("status") == "failed");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "Details." }), HttpStatusCode.OK);
        await client.WaitForStatusAsync(runId, "completed");
        await receiver.WaitForAsync(alive, 2, TimeSpan.FromSeconds(30));
        await Task.Delay(2500);

        var listed = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "webhooks"), HttpStatusCode.OK)["webhooks"]!.AsArray()
            .Single(w => w!.Str("webhook_id") == goneId)!;
        Assert.Multiple(() =>
        {
            Assert.That(receiver.At(gone), Has.Count.EqualTo(1), "no retry and no later event after 410");
            Assert.That(failed["last_status_code"]!.GetValue<int>(), Is.EqualTo(410));
            Assert.That(failed["attempts"]!.GetValue<int>(), Is.EqualTo(1));
            Assert.That(listed["enabled"]!.GetValue<bool>(), Is.False);
            Assert.That(listed.Str("disabled_reason"), Does.Contain("410"));
            Assert.That(receiver.At(alive).Select(r => r.Type), Is.EqualTo(new[] { "run.waiting_human", "run.completed" }), "the other webhook still gets both");
        });
    }

    [Test]
    public async Task Redirect_IsNotFollowed_AndTheDeliveryIsRetried()
    {
        using var client = await RegisterAsync();
        var path = "/moved/" + Guid.NewGuid().ToString("N");
        var target = "/target/" + Guid.NewGuid().ToString("N");
        receiver.Script(path, WebhookReceiver.Status(302, ("Location", receiver.Url(target))), WebhookReceiver.Status(307, ("Location", receiver.Url(target))));
        var (webhookId, _) = await RegisterAsync(client, path, "run.waiting_human");

        await RunScenarios.StartWaitingRunAsync(client);
        await receiver.WaitForAsync(path, 3, TimeSpan.FromSeconds(30));
        var delivered = await WaitForDeliveryAsync(client, webhookId, d => d.Str("status") == "succeeded");

        Assert.Multiple(() =>
        {
            Assert.That(receiver.At(target), Is.Empty, "the redirect target was never called");
            Assert.That(delivered["attempts"]!.GetValue<int>(), Is.EqualTo(3));
        });
    }

    [Test]
    public async Task RotatedSecret_DuringTheOverlap_BothSecretsVerifyEveryDelivery()
    {
        using var client = await RegisterAsync();
        var path = "/rotated/" + Guid.NewGuid().ToString("N");
        var (webhookId, oldSecret) = await RegisterAsync(client, path, "run.waiting_human");
        var rotated = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, $"webhooks/{webhookId}/rotate-secret"), HttpStatusCode.OK);
        var newSecret = rotated.Str("secret");

        await RunScenarios.StartWaitingRunAsync(client);
        var delivery = (await receiver.WaitForAsync(path, 1, TimeSpan.FromSeconds(30)))[0];

        var signatures = delivery.Header("webhook-signature")!.Split(' ');
        var verdicts = await StandardWebhooks.VerifyAsync([(delivery, oldSecret), (delivery, newSecret), (delivery, Orchflow.Webhooks.WebhookSignature.NewSecret())]);
        Assert.Multiple(() =>
        {
            Assert.That(newSecret, Does.StartWith("whsec_").And.Not.EqualTo(oldSecret));
            Assert.That(signatures, Has.Length.EqualTo(2));
            Assert.That(signatures, Is.All.StartWith("v1,"));
            Assert.That(verdicts[0], Is.Null, "the old secret verifies during the overlap");
            Assert.That(verdicts[1], Is.Null, "the new secret verifies");
            Assert.That(verdicts[2], Is.Not.Null, "a third secret does not: the verifier is not fooled");
            Assert.That(DateTimeOffset.Parse(rotated.Str("previous_secret_expires_at")) - DateTimeOffset.UtcNow,
                Is.InRange(TimeSpan.FromHours(23.9), TimeSpan.FromHours(24)));
        });
    }

    [Test]
    public async Task EndpointThatNeverAnswers_RunsAreNotHeldUp()
    {
        using var client = await RegisterAsync();
        var path = "/hangs/" + Guid.NewGuid().ToString("N");
        receiver.Always(path, WebhookReceiver.Hang(TimeSpan.FromSeconds(30)));
        await RegisterAsync(client, path, Orchflow.Domain.EventTypes.All.ToArray());

        var clock = Stopwatch.StartNew();
        var runId = (await client.StartRunAsync(new { task = RunScenarios.Goal })).Str("run_id");
        var done = await client.WaitForStatusAsync(runId, "completed", TimeSpan.FromSeconds(30));
        clock.Stop();

        await TestContext.Out.WriteLineAsync($"A run with every event going to an endpoint that never answers completed in {clock.Elapsed.TotalSeconds:0.0} s");
        var events = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, $"runs/{runId}/events?limit=1000"), HttpStatusCode.OK)["events"]!.AsArray().Count;
        Assert.Multiple(() =>
        {
            // Each of its events waits 2 s for an answer that never comes: a run that waited for them would take at
            // least 2 s an event; this one may take half that on a busy machine.
            Assert.That(events, Is.GreaterThanOrEqualTo(8));
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(events)));
            Assert.That(done["error"], Is.Null);
        });
    }

    /// <summary>Polls the webhook's deliveries until the newest one satisfies the condition.</summary>
    static async Task<JsonNode> WaitForDeliveryAsync(OrchflowClient client, string webhookId, Func<JsonNode, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var deliveries = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, $"webhooks/{webhookId}/deliveries"), HttpStatusCode.OK)["deliveries"]!.AsArray();
            if (deliveries.Count > 0 && condition(deliveries[0]!))
            {
                return deliveries[0]!;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"No delivery of {webhookId} reached the expected state: {deliveries.ToJsonString()}");
            }

            await Task.Delay(100);
        }
    }
}
