using System.Net;
using System.Text;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Telemetry;

/// <summary>
/// What the standalone host exports when a user points it at an OTLP collector, checked on a loopback collector that
/// keeps every byte it was sent: the spans of a run on a real (loopback) provider, Orchflow's metric points with their
/// attributes, the failure cause of a rejected key, and nowhere a key, a prompt, an output or a human's answer.
/// </summary>
/// <remarks>
/// The host runs as users run it, as its own process with the OTLP exporter configured from OTEL_* settings alone, so
/// the test covers the wiring too, not only the instruments; the collector decodes OTLP's protobuf by field number.
/// </remarks>
[TestFixture]
public sealed class TelemetryExportTests : HostedModelTests
{
    /// <summary>Kinds of span in OTLP: 2 server, 3 client.</summary>
    const int Server = 2, Client = 3;

    protected override CooperativeModel Cooperative { get; } = new(CooperativeModel.HumanResearchWriterPlan);

    OtlpReceiver collector = null!;

    protected override async Task BeforeHostStartsAsync()
    {
        await base.BeforeHostStartsAsync();
        collector = await OtlpReceiver.StartAsync();
    }

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>(collector.HostSettings)
    {
        ["Orchflow__Models__RetryBaseDelayMs"] = "20",
        ["Orchflow__RateLimit__RegisterPerMinute"] = "5",
        ["Orchflow__RateLimit__ClientAddressHeader"] = "X-Forwarded-For",
    };

    [OneTimeTearDown]
    public async Task StopCollectorAsync() => await collector.DisposeAsync();

    [Test]
    public async Task Run_OnProviderWithHumanTask_ExportsItsSpansAndMetricsWithoutAnyKeyPromptOrAnswer()
    {
        using var client = await RegisterAsync();
        var (providerId, providerKey) = await client.CreateProviderAsync(new Uri(ModelServer.BaseUri, "v1"));
        var goal = $"Research competitors and draft a launch strategy for product {Guid.NewGuid():N}.";
        var answer = $"We build workflow APIs; voice {Guid.NewGuid():N}.";

        var runId = (await client.StartRunAsync(new { task = goal, provider_id = providerId, ask_me_about = new[] { "company details" } })).Str("run_id");
        using var streams = new EventStreamClient(Host.BaseAddress, client.ApiKey!);
        await using var stream = await streams.OpenAsync(runId);
        await client.WaitForStatusAsync(runId, "waiting_human");
        await collector.WaitForAsync(c => Latest(c, "orchflow.sse.open_streams").Any(p => p.Value >= 1), "an open stream counted");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = answer }), HttpStatusCode.OK);
        await client.WaitForStatusAsync(runId, "completed");
        await collector.WaitForAsync(c => c.Spans.Any(s => s.Name == "orchflow.model.call" && RunOf(s) == runId && Str(s, "orchflow.model.operation") == "synthesis") &&
                                          Latest(c, "orchflow.runs.ended").Any(p => Attr(p, "orchflow.run.outcome") == "completed") &&
                                          Latest(c, "orchflow.human.wait.duration").Any(p => Attr(p, "orchflow.task.kind") == "human") &&
                                          Latest(c, "orchflow.model.tokens").Where(p => Attr(p, "orchflow.model") == "llama3.1:8b" && Attr(p, "orchflow.token.type") == "output")
                                              .Sum(p => p.Value) >= 28,
            "the run's synthesis span, its end, the human's wait and the tokens of its four calls (other tests' runs end too)");

        var spans = collector.Spans;
        var run = spans.Where(s => RunOf(s) == runId).ToList();
        var calls = run.Where(s => s.Name == "orchflow.model.call").ToList();
        var research = calls.Single(s => Str(s, "orchflow.task_id") == "T2");
        Assert.Multiple(() =>
        {
            Assert.That(calls.Select(c => Str(c, "orchflow.model.operation")), Is.EquivalentTo(new[] { "plan", "task", "task", "synthesis" }));
            Assert.That(research.Kind, Is.EqualTo(Client));
            Assert.That(research["orchflow.provider.kind"], Is.EqualTo("openai_compatible"));
            Assert.That(research["orchflow.model"], Is.EqualTo("llama3.1:8b"));
            Assert.That(research["orchflow.model.input_tokens"], Is.EqualTo(11L));
            Assert.That(research["orchflow.model.output_tokens"], Is.EqualTo(7L));
            Assert.That(research["orchflow.model.attempts"], Is.EqualTo(1L));
            Assert.That(research.StatusCode, Is.EqualTo(1), "ok");
            Assert.That(spans.Where(s => s.ParentSpanId == research.SpanId && s.Kind == Client).Select(s => s.Scope), Has.Some.EqualTo("System.Net.Http"),
                "the HTTP request to the provider is the model call's child");

            var plan = run.Single(s => s.Name == "orchflow.plan");
            Assert.That(plan["orchflow.plan.outcome"], Is.EqualTo("model"));
            Assert.That(plan["orchflow.plan.task_count"], Is.EqualTo(3L));
            var validate = run.Single(s => s.Name == "orchflow.plan.validate");
            Assert.That(validate["orchflow.plan.valid"], Is.EqualTo(true));
            Assert.That(validate.ParentSpanId, Is.EqualTo(plan.SpanId));

            Assert.That(spans.Where(s => s.Scope == "Microsoft.DurableTask").Select(s => s.Name), Has.Some.Contains("ExecuteAgentTaskActivity"),
                "the Durable Task SDK's own spans");
            Assert.That(spans.Where(s => s.Scope == "Microsoft.AspNetCore" && s.Kind == Server).Select(s => s.Name), Has.Some.Contains("runs"),
                "ASP.NET Core server spans for the API");
            Assert.That(spans.Where(s => s.Scope == "Microsoft.AspNetCore").Select(s => Str(s, "url.path") ?? ""), Has.None.Contains("TaskHubSidecarService"),
                "the durable backend's gRPC is not traced as requests");
            // A webhook delivery starts its own trace (the queue's worker makes it, not a request), tagged with its run.
            Assert.That(spans.Where(s => s.Kind == Client && s.ParentSpanId == "" && s.Name != "orchflow.webhook.deliver")
                    .Select(s => $"{s.Scope} {s.Name} {Str(s, "url.full")}"), Is.Empty,
                "background polls, which belong to no request or run, are not traced");
        });

        var metrics = collector.Points;
        Assert.Multiple(() =>
        {
            Assert.That(Latest(metrics, "orchflow.runs.started").Sum(p => p.Value), Is.GreaterThanOrEqualTo(1));
            Assert.That(Latest(metrics, "orchflow.run.duration").Where(p => Attr(p, "orchflow.run.outcome") == "completed").Sum(p => p.Count), Is.GreaterThanOrEqualTo(1));
            var wait = Latest(metrics, "orchflow.human.wait.duration").Single(p => Attr(p, "orchflow.task.kind") == "human");
            Assert.That(wait.Attributes["orchflow.human.decision"], Is.EqualTo("accepted"));
            Assert.That(wait.Count, Is.GreaterThanOrEqualTo(1));
            Assert.That(wait.Unit, Is.EqualTo("s"));
            var tokens = Latest(metrics, "orchflow.model.tokens").Where(p => Attr(p, "orchflow.provider.kind") == "openai_compatible" && Attr(p, "orchflow.model") == "llama3.1:8b").ToList();
            Assert.That(tokens.Where(p => Attr(p, "orchflow.token.type") == "input").Sum(p => p.Value), Is.GreaterThanOrEqualTo(44), "four calls of 11 tokens in");
            Assert.That(tokens.Where(p => Attr(p, "orchflow.token.type") == "output").Sum(p => p.Value), Is.GreaterThanOrEqualTo(28), "four calls of 7 tokens out");
            Assert.That(Latest(metrics, "orchflow.model.call.duration").Where(p => Attr(p, "orchflow.model.outcome") == "ok").Sum(p => p.Count), Is.GreaterThanOrEqualTo(4));
        });

        await RunEndExportedAsync(runId);
        AssertNothingExported(runId, [providerKey, client.ApiKey!, goal, answer, CooperativeModel.OutputOf("T2"), CooperativeModel.FinalAnswer,
            "You are the planner of Orchflow", "company details"]);
    }

    [Test]
    public async Task Run_ProviderRejectsTheKey_RecordsAuthAsTheFailureCause()
    {
        ModelServer.Responder = _ => FakeReply.Unauthorized();
        using var client = await RegisterAsync();
        var (providerId, providerKey) = await client.CreateProviderAsync(new Uri(ModelServer.BaseUri, "v1"));

        var runId = (await client.StartRunAsync(new { task = "Research competitors.", provider_id = providerId })).Str("run_id");
        await client.WaitForStatusAsync(runId, "failed");
        await collector.WaitForAsync(c => c.Spans.Any(s => s.Name == "orchflow.model.call" && RunOf(s) == runId) &&
                                          Latest(c, "orchflow.model.call.failures").Any(p => Attr(p, "orchflow.failure.cause") == "auth") &&
                                          Latest(c, "orchflow.runs.ended").Any(p => Attr(p, "orchflow.run.outcome") == "failed"),
            "the rejected call and the failed run");

        var call = collector.Spans.Single(s => s.Name == "orchflow.model.call" && RunOf(s) == runId);
        var failures = Latest(collector.Points, "orchflow.model.call.failures").Single(p => Attr(p, "orchflow.failure.cause") == "auth");
        Assert.Multiple(() =>
        {
            Assert.That(call.StatusCode, Is.EqualTo(2), "error");
            Assert.That(call.StatusMessage, Is.EqualTo("auth"));
            Assert.That(call["orchflow.failure.cause"], Is.EqualTo("auth"));
            Assert.That(call["http.response.status_code"], Is.EqualTo(401L));
            Assert.That(call["orchflow.model.attempts"], Is.EqualTo(1L), "a rejected key is not retried");
            Assert.That(failures.Attributes["orchflow.model.operation"], Is.EqualTo("plan"));
            Assert.That(failures.Attributes["orchflow.provider.kind"], Is.EqualTo("openai_compatible"));
            Assert.That(failures.Value, Is.GreaterThanOrEqualTo(1));
        });
        await RunEndExportedAsync(runId);
        AssertNothingExported(runId, [providerKey, client.ApiKey!]);
    }

    [Test]
    public async Task Delivery_ToAReceiver_ExportsItsSpanWithTheHttpRequestAsChildAndCountsItByOutcome()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var client = await RegisterAsync();
        // A path that is the receiver's credential, as many webhook services hand out.
        var path = $"/telemetry/hooks/{Guid.NewGuid():N}";
        var created = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, "webhooks",
            new { url = receiver.Url(path), events = new[] { "run.completed" } }), HttpStatusCode.Created);

        var runId = (await client.StartRunAsync(new { task = "Research competitors." })).Str("run_id");
        await receiver.WaitForAsync(path, 1, TimeSpan.FromSeconds(30));
        await collector.WaitForAsync(c => c.Spans.Any(s => s.Name == "orchflow.webhook.deliver" && RunOf(s) == runId) &&
                                          Latest(c, "orchflow.webhook.deliveries").Any(p => Attr(p, "orchflow.webhook.outcome") == "delivered"),
            "the delivery's span and count");

        var spans = collector.Spans;
        var delivery = spans.Single(s => s.Name == "orchflow.webhook.deliver" && RunOf(s) == runId);
        Assert.Multiple(() =>
        {
            Assert.That(delivery.Kind, Is.EqualTo(Client));
            Assert.That(delivery["orchflow.webhook.endpoint_id"], Is.EqualTo(created.Str("webhook_id")));
            Assert.That(delivery["orchflow.webhook.event_type"], Is.EqualTo("run.completed"));
            Assert.That(delivery["orchflow.webhook.attempt"], Is.EqualTo(1L));
            Assert.That(delivery["orchflow.webhook.outcome"], Is.EqualTo("delivered"));
            Assert.That(delivery["http.response.status_code"], Is.EqualTo(200L));
            Assert.That(delivery.StatusCode, Is.EqualTo(1), "ok");
            var post = spans.Single(s => s.ParentSpanId == delivery.SpanId && s.Scope == "System.Net.Http");
            Assert.That(Str(post, "url.full"), Is.EqualTo(receiver.Url("/")), "the POST to the receiver is the delivery's child, without the receiver's path");
            Assert.That(Latest(collector, "orchflow.webhook.delivery.duration").Where(p => Attr(p, "orchflow.webhook.outcome") == "delivered").Sum(p => p.Count),
                Is.GreaterThanOrEqualTo(1));
        });
        // The delivery comes after the run's end, and its own log line after the delivery.
        await collector.WaitForAsync(c => c.Logs.Any(l => l.Attributes.Values.Any(v => v?.ToString() == created.Str("webhook_id"))),
            "the delivery's log line");
        AssertNothingExported(runId, [created.Str("secret"), client.ApiKey!, path]);
    }

    [Test]
    public async Task Register_OverTheLimit_CountsTheRateLimitedRequest()
    {
        // An address of its own (through the trusted proxy header), so the other tests' registrations keep their bucket.
        var answers = new List<ApiResponse>();
        for (var i = 0; i < 7; i++)
        {
            answers.Add(await Anonymous.SendRawAsync(HttpMethod.Post, "auth/register", $$"""{"name":"R{{i}}","email":"r{{i}}-{{Guid.NewGuid():N}}@example.com"}""",
                header: ("X-Forwarded-For", "81.2.70.77")));
        }

        Assert.That(answers.Select(a => a.Status), Has.Some.EqualTo(HttpStatusCode.TooManyRequests));
        await collector.WaitForAsync(c => Latest(c, "orchflow.http.rate_limited").Any(p => Attr(p, "orchflow.rate_limit.policy") == "per-address" && p.Value >= 1),
            "the refused registration counted");
    }

    /// <summary>
    /// Waits until the log line of the run's end has been exported: it is written after the run's last model call and
    /// state change, so what the search below reads holds all the run made the host export.
    /// </summary>
    Task RunEndExportedAsync(string runId) =>
        collector.WaitForAsync(c => c.Logs.Any(l => (l.Body ?? "").Contains("ended", StringComparison.Ordinal) && l.Attributes.Values.Any(v => v?.ToString() == runId)),
            $"the log line of run {runId}'s end");

    /// <summary>
    /// Fails naming the signal and the first place a secret was found in the bytes the host exported. The run id, which
    /// is exported, must be found the same way: the search would see a secret if one were there.
    /// </summary>
    void AssertNothingExported(string runId, IEnumerable<string> secrets)
    {
        var bodies = collector.Bodies;
        Assert.That(bodies.Select(b => b.Signal).Distinct(), Is.SupersetOf(new[] { "traces", "metrics", "logs" }));
        var id = Encoding.UTF8.GetBytes(runId);
        Assert.That(bodies.Where(b => b.Signal == "traces").Any(b => b.Body.AsSpan().IndexOf(id) >= 0), Is.True, "the run id is found in the traces");
        Assert.That(bodies.Where(b => b.Signal == "logs").Any(b => b.Body.AsSpan().IndexOf(id) >= 0), Is.True, "the run id is found in the logs");
        foreach (var secret in secrets)
        {
            var bytes = Encoding.UTF8.GetBytes(secret);
            var found = bodies.FirstOrDefault(b => b.Body.AsSpan().IndexOf(bytes) >= 0);
            Assert.That(found.Body, Is.Null, $"'{secret}' was exported in {found.Signal}: {Around(found.Body, bytes)}");
        }
    }

    static string Around(byte[]? body, byte[] secret)
    {
        if (body is null)
        {
            return "";
        }

        var at = body.AsSpan().IndexOf(secret);
        var from = Math.Max(0, at - 120);
        return Encoding.UTF8.GetString(body, from, Math.Min(body.Length - from, secret.Length + 240));
    }

    /// <summary>The latest point of each series of a metric: cumulative, so it holds every earlier one.</summary>
    static List<ReceivedPoint> Latest(IEnumerable<ReceivedPoint> points, string metric) =>
        points.Where(p => p.Metric == metric)
            .GroupBy(p => string.Join(",", p.Attributes.OrderBy(a => a.Key).Select(a => $"{a.Key}={a.Value}")))
            .Select(g => g.Last())
            .ToList();

    static List<ReceivedPoint> Latest(OtlpReceiver collector, string metric) => Latest(collector.Points, metric);

    static string? Attr(ReceivedPoint point, string name) => point.Attributes.GetValueOrDefault(name)?.ToString();

    static string? Str(ReceivedSpan span, string name) => span[name]?.ToString();

    static string? RunOf(ReceivedSpan span) => Str(span, "orchflow.run_id");
}
