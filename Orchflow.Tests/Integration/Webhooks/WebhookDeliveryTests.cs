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
}
