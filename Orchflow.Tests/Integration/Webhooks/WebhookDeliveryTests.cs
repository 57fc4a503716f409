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
    public async Task RunWaitingHuman_Webhook_ArrivesSignedOncePerRunAfterItsEvent()
    {
        using var client = await RegisterAsync();
        var path = "/waiting/" + Guid.NewGuid().ToString("N");
        var (_, secret) = await RegisterAsync(client, path, "run.waiting_human");
        const int runs = 24;
        var received = new List<ReceivedWebhook>();

        // Three at a time, as a small backend would start them.
        for (var batch = 0; batch < runs / 3; batch++)
        {
            for (var i = 0; i < 3; i++)
            {
                await client.StartRunAsync(new { task = RunScenarios.Goal, ask_me_about = new[] { "company details" } });
            }

            received = (await receiver.WaitForAsync(path, received.Count + 3, TimeSpan.FromSeconds(60))).ToList();
        }

        var latencies = received.Select(d => (d.ReceivedAt - EventTime(d)).TotalMilliseconds).ToList();
        await WriteLatenciesAsync(latencies);
        await AssertVerifiedAsync(received, secret);
        Assert.Multiple(() =>
        {
            Assert.That(received.Select(r => r.Type), Is.All.EqualTo("run.waiting_human"));
            Assert.That(received.Select(r => r.Json["data"]!["run_id"]!.GetValue<string>()).Distinct().Count(), Is.EqualTo(runs), "one per run");
            Assert.That(received.Where(d => d.ReceivedAt < EventTime(d)).Select(d => d.Id), Is.Empty, "a delivery never comes before its event");
        });
    }

    static DateTimeOffset EventTime(ReceivedWebhook delivery) =>
        DateTimeOffset.Parse(delivery.Json["data"]!["event"]!["created_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Event logged to webhook received, written to TestResults/webhooks/latency.txt (the figure README quotes): a
    /// measurement for people to read, never asserted, since a busy machine moves it and the bench owns the targets.
    /// </summary>
    static async Task WriteLatenciesAsync(List<double> latencies)
    {
        latencies.Sort();
        var report = $"run.waiting_human → webhook received, {latencies.Count} runs: median {latencies[latencies.Count / 2]:0} ms, " +
                     $"p99 {latencies[(int)Math.Ceiling(latencies.Count * 0.99) - 1]:0} ms, max {latencies[^1]:0} ms";
        await TestContext.Out.WriteLineAsync(report);
        var directory = Path.Combine(RepoPaths.Root, "TestResults", "webhooks");
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "latency.txt");
        await File.WriteAllTextAsync(file, report + "\n" + string.Join("\n", latencies.Select(l => l.ToString("0", System.Globalization.CultureInfo.InvariantCulture))) + "\n");
        TestContext.AddTestAttachment(file, "run.waiting_human to webhook latencies (ms)");
    }

    [Test]
    public async Task EveryEventType_WholeRun_EachEventArrivesOnceAsTheLogShowsItWithTheRunAsItStood()
    {
        using var client = await RegisterAsync();
        var path = "/all/" + Guid.NewGuid().ToString("N");
        var (webhookId, secret) = await RegisterAsync(client, path, Orchflow.Domain.EventTypes.All.ToArray());
        var runId = (await client.StartRunAsync(new { task = RunScenarios.Goal, ask_me_about = new[] { "company details" } })).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "We build workflow APIs." }), HttpStatusCode.OK);
        await client.WaitForStatusAsync(runId, "completed");
        var log = await client.EventsAsync(runId);

        // The run has ended and every event's delivery is recorded as succeeded: nothing more can come.
        await client.WaitForDeliveriesAsync(webhookId, d => d.Count == log.Count && d.All(x => x!.Str("status") == "succeeded"),
            $"{log.Count} deliveries, every one succeeded");
        var got = receiver.At(path);
        await AssertVerifiedAsync(got, secret);
        var bySequence = got.ToDictionary(d => d.Json["data"]!["sequence"]!.GetValue<long>());
        Assert.Multiple(() =>
        {
            Assert.That(got, Has.Count.EqualTo(log.Count), "one delivery per event");
            Assert.That(got.Select(d => d.Id).Distinct().Count(), Is.EqualTo(got.Count), "a webhook-id per delivery");
            Assert.That(got.Select(d => d.Header("Content-Type")), Is.All.EqualTo("application/json"));
            var status = "queued";
            var waiting = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var e in log)
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
    public async Task FailingEndpoint_500Then503ThenTimeout_EachFailureRecordedAndRetriedWhenScheduledThenDeliveredUnderOneId()
    {
        using var client = await RegisterAsync();
        var path = "/flaky/" + Guid.NewGuid().ToString("N");
        receiver.Script(path, WebhookReceiver.Status(500), WebhookReceiver.Status(503), WebhookReceiver.Hang(TimeSpan.FromSeconds(5)));
        var (webhookId, secret) = await RegisterAsync(client, path, "run.waiting_human");

        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        var (delivery, retries) = await FollowDeliveryAsync(client, webhookId);
        var attempts = receiver.At(path);

        await AssertVerifiedAsync(attempts, secret);
        Assert.Multiple(() =>
        {
            Assert.That(attempts, Has.Count.EqualTo(4));
            Assert.That(attempts.Select(a => a.Id).Distinct(), Has.Exactly(1).Items, "the same webhook-id on every attempt");
            Assert.That(attempts.Select(a => a.Body).Distinct(), Has.Exactly(1).Items, "the same body on every attempt");
            Assert.That(retries.Select(r => r["last_error"]?.GetValue<string>()),
                Is.EqualTo(new[] { "The endpoint answered 500.", "The endpoint answered 503.", "No answer within 2 s." }),
                "each failed attempt is on record with its cause before the next");
            Assert.That(retries.Take(2).Select(r => r["last_status_code"]?.GetValue<int>()), Is.EqualTo(new int?[] { 500, 503 }));
            AssertRetriedWhenScheduled(attempts, retries);
            Assert.That(delivery.Str("run_id"), Is.EqualTo(runId));
            Assert.That(delivery["attempts"]!.GetValue<int>(), Is.EqualTo(4));
            Assert.That(delivery["last_status_code"]!.GetValue<int>(), Is.EqualTo(200));
            Assert.That(delivery.Str("delivery_id"), Is.EqualTo(attempts[0].Id));
            Assert.That(delivery["next_attempt_at"], Is.Null);
        });
    }

    /// <summary>
    /// Follows the webhook's newest delivery until it succeeds; answers it, and how it stood after each failed attempt
    /// (pending, with the cause and the time of the next attempt), in order. The backoff's growth and jitter are the
    /// retry schedule's unit tests, on exact numbers; here each attempt is seen to wait for the one the host scheduled.
    /// </summary>
    static async Task<(JsonNode Delivery, List<JsonNode> Retries)> FollowDeliveryAsync(OrchflowClient client, string webhookId)
    {
        var retries = new SortedDictionary<int, JsonNode>();
        var delivery = await client.WaitForDeliveryAsync(webhookId, d =>
        {
            if (d.Str("status") == "pending" && d["attempts"]!.GetValue<int>() is > 0 and var failed)
            {
                retries.TryAdd(failed, d.DeepClone());
            }

            return d.Str("status") == "succeeded";
        }, "succeeded", TimeSpan.FromSeconds(60));
        Assert.That(retries.Keys, Is.EqualTo(Enumerable.Range(1, delivery["attempts"]!.GetValue<int>() - 1)), "every failed attempt was seen pending");
        return (delivery, retries.Values.ToList());
    }

    /// <summary>Each retry was scheduled after the attempt that failed, and made no sooner than scheduled.</summary>
    static void AssertRetriedWhenScheduled(IReadOnlyList<ReceivedWebhook> attempts, List<JsonNode> retries)
    {
        for (var i = 0; i < retries.Count && i + 1 < attempts.Count; i++)
        {
            var scheduled = DateTimeOffset.Parse(retries[i].Str("next_attempt_at"), System.Globalization.CultureInfo.InvariantCulture);
            Assert.That(scheduled, Is.GreaterThan(attempts[i].ReceivedAt), $"attempt {i + 2} was scheduled after attempt {i + 1} failed");
            Assert.That(attempts[i + 1].ReceivedAt, Is.GreaterThanOrEqualTo(scheduled - ClockGrain), $"attempt {i + 2} came no sooner than scheduled");
        }
    }

    /// <summary>Storage and the receiver keep time to the millisecond, on the same clock.</summary>
    static readonly TimeSpan ClockGrain = TimeSpan.FromMilliseconds(5);

    [Test]
    public async Task RetryAfter_LongerThanTheBackoff_NextAttemptScheduledAndMadeAsItAsks()
    {
        using var client = await RegisterAsync();
        var path = "/busy/" + Guid.NewGuid().ToString("N");
        receiver.Script(path, WebhookReceiver.Status(429, ("Retry-After", "3")));
        var (webhookId, _) = await RegisterAsync(client, path, "run.waiting_human");

        await RunScenarios.StartWaitingRunAsync(client);
        var (delivery, retries) = await FollowDeliveryAsync(client, webhookId);
        var attempts = receiver.At(path);

        Assert.Multiple(() =>
        {
            Assert.That(delivery["attempts"]!.GetValue<int>(), Is.EqualTo(2));
            Assert.That(retries.Single()["last_status_code"]!.GetValue<int>(), Is.EqualTo(429));
            // Scheduled by the host's clock from the failure: at least the 3 s asked for, not the 1 s backoff.
            Assert.That(DateTimeOffset.Parse(retries.Single().Str("next_attempt_at"), System.Globalization.CultureInfo.InvariantCulture) - attempts[0].ReceivedAt,
                Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(3) - ClockGrain), "waits as Retry-After asks");
            AssertRetriedWhenScheduled(attempts, retries);
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
        var (aliveId, _) = await RegisterAsync(client, alive, "run.waiting_human", "run.completed");

        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        var failed = await client.WaitForDeliveryAsync(goneId, d => d.Str("status") == "failed", "failed");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "Details." }), HttpStatusCode.OK);
        await client.WaitForStatusAsync(runId, "completed");
        // The run has ended, and its last event has reached the other webhook: every delivery of every event of it has
        // been recorded by now, so none of the gone webhook's still to come means none ever will.
        await client.WaitForDeliveriesAsync(aliveId, d => d.Count == 2 && d.All(x => x!.Str("status") == "succeeded"), "both delivered");
        var goneDeliveries = await client.WaitForDeliveriesAsync(goneId, d => d.All(x => x!.Str("status") != "pending"), "none pending");

        var listed = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "webhooks"), HttpStatusCode.OK)["webhooks"]!.AsArray()
            .Single(w => w!.Str("webhook_id") == goneId)!;
        Assert.Multiple(() =>
        {
            Assert.That(receiver.At(gone), Has.Count.EqualTo(1), "no retry and no later event after 410");
            Assert.That(goneDeliveries, Has.Count.EqualTo(1), "no delivery recorded for the later event");
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
        var delivered = await client.WaitForDeliveryAsync(webhookId, d => d.Str("status") == "succeeded", "succeeded");

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
    public async Task EndpointThatNeverAnswers_DeliveryInFlightUnanswered_RunGoesOnToComplete()
    {
        using var client = await RegisterAsync();
        var path = "/hangs/" + Guid.NewGuid().ToString("N");
        // Longer than the test: no request to this endpoint is ever answered (the receiver drops them when it stops).
        receiver.Always(path, WebhookReceiver.Hang(TimeSpan.FromMinutes(10)));
        await RegisterAsync(client, path, Orchflow.Domain.EventTypes.All.ToArray());

        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        var inFlight = await receiver.WaitForAsync(path, 1, TimeSpan.FromSeconds(30));
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "Details." }), HttpStatusCode.OK);
        var done = await client.WaitForStatusAsync(runId, "completed");

        var events = await client.EventsAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(inFlight, Is.Not.Empty, "a delivery was on its way, unanswered, before the run went on");
            Assert.That(events.Select(e => e.Str("type")).Last(), Is.EqualTo("run.completed"));
            Assert.That(events, Has.Count.GreaterThanOrEqualTo(8));
            Assert.That(done["error"], Is.Null);
        });
    }
}
