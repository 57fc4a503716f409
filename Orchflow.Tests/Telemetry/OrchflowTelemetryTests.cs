using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Models;
using Orchflow.Planning;
using Orchflow.Telemetry;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Telemetry;

/// <summary>
/// Orchflow's spans and metric points, exported in-process with the in-memory exporter: the model adapter over real HTTP
/// on a loopback chat server, the planner's validate / repair / fallback, the run counters fed by the run log, and the
/// webhook and stream instruments, each with the attributes it promises and never the text it was given.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OrchflowTelemetryTests : ChatServerFixture
{
    const string Key = "sk-telemetry-unit-91bd0c44Zq";

    static readonly RunDefinition Definition = new(
        "Compare two competitors secretly named Quokka and draft a note.", AgentCatalog.Resolve([new AgentSpec("research"), new AgentSpec("writer")]),
        [], [], false, "prv_test", null);

    [Test]
    public async Task RunTaskAsync_ProviderFailsOnceThenAnswers_SpanCarriesRunTaskAttemptsAndTokensAndMetricsCountThem()
    {
        using var telemetry = new InMemoryTelemetry();
        Server.Enqueue(FakeReply.ServerError(503), FakeReply.Chat("The secret draft about Quokka.", promptTokens: 120, completionTokens: 30));

        using (OrchflowTelemetry.InRun("run_telemetry1", "T3"))
        {
            await Model().RunTaskAsync(TaskRequest(), CancellationToken.None);
        }

        var span = telemetry.Span("orchflow.model.call");
        var tokens = telemetry.Points("orchflow.model.tokens");
        var duration = telemetry.Points("orchflow.model.call.duration").Single();
        Assert.Multiple(() =>
        {
            Assert.That(span.Kind, Is.EqualTo(ActivityKind.Client));
            Assert.That(span.GetTagItem("orchflow.run_id"), Is.EqualTo("run_telemetry1"));
            Assert.That(span.GetTagItem("orchflow.task_id"), Is.EqualTo("T3"));
            Assert.That(span.GetTagItem("orchflow.provider.kind"), Is.EqualTo("openai_compatible"));
            Assert.That(span.GetTagItem("orchflow.model"), Is.EqualTo("llama3.1:8b"));
            Assert.That(span.GetTagItem("orchflow.model.operation"), Is.EqualTo("task"));
            Assert.That(span.GetTagItem("orchflow.model.attempts"), Is.EqualTo(2));
            Assert.That(span.GetTagItem("orchflow.model.input_tokens"), Is.EqualTo(120L));
            Assert.That(span.GetTagItem("orchflow.model.output_tokens"), Is.EqualTo(30L));
            Assert.That(span.Status, Is.EqualTo(ActivityStatusCode.Ok));
            var retry = span.Events.Single();
            Assert.That(retry.Name, Is.EqualTo("orchflow.model.retry"));
            Assert.That(retry.Tags.ToDictionary(t => t.Key, t => t.Value)["orchflow.failure.cause"], Is.EqualTo("server_error"));

            Assert.That(tokens.Single(p => Equals(p.Tags["orchflow.token.type"], "input")).Value, Is.EqualTo(120));
            Assert.That(tokens.Single(p => Equals(p.Tags["orchflow.token.type"], "output")).Value, Is.EqualTo(30));
            Assert.That(tokens.Select(p => p.Tags["orchflow.provider.kind"]), Is.All.EqualTo("openai_compatible"));
            Assert.That(duration.Count, Is.EqualTo(1));
            Assert.That(duration.Tags["orchflow.model.outcome"], Is.EqualTo("ok"));
            Assert.That(duration.Tags.Keys, Has.None.EqualTo("orchflow.run_id"), "ids are span attributes, never metric dimensions");
            Assert.That(telemetry.Points("orchflow.model.call.failures"), Is.Empty);
        });
        AssertNoText(telemetry, Key, "Quokka", "secret draft");
    }

    [Test]
    public async Task PlanAsync_ProviderRejectsTheKey_RecordsAuthAsTheCauseOnTheSpanAndTheFailureCounter()
    {
        using var telemetry = new InMemoryTelemetry();
        Server.Responder = _ => FakeReply.Unauthorized();

        using (OrchflowTelemetry.InRun("run_telemetry2"))
        {
            Assert.ThrowsAsync<ModelProviderException>(() => Model().PlanAsync(new PlanningRequest(Definition, Definition.Agents), CancellationToken.None));
        }

        var span = telemetry.Span("orchflow.model.call");
        var failure = telemetry.Points("orchflow.model.call.failures").Single();
        Assert.Multiple(() =>
        {
            Assert.That(span.Status, Is.EqualTo(ActivityStatusCode.Error));
            Assert.That(span.StatusDescription, Is.EqualTo("auth"));
            Assert.That(span.GetTagItem("orchflow.failure.cause"), Is.EqualTo("auth"));
            Assert.That(span.GetTagItem("http.response.status_code"), Is.EqualTo(401));
            Assert.That(span.GetTagItem("orchflow.model.attempts"), Is.EqualTo(1));
            Assert.That(span.GetTagItem("orchflow.task_id"), Is.Null, "planning belongs to the run, not to a task");
            Assert.That(failure.Tags["orchflow.failure.cause"], Is.EqualTo("auth"));
            Assert.That(failure.Tags["orchflow.model.operation"], Is.EqualTo("plan"));
            Assert.That(failure.Value, Is.EqualTo(1));
            Assert.That(telemetry.Points("orchflow.model.tokens"), Is.Empty);
        });
        AssertNoText(telemetry, Key, "Quokka");
    }

    [Test]
    public async Task PlanAsync_InvalidPlanAndInvalidRepair_TracesValidateRepairAndFallbackUnderThePlan()
    {
        using var telemetry = new InMemoryTelemetry();
        var model = new Mock<IRunModel>();
        model.SetupGet(m => m.Name).Returns("openai:gpt-test");
        model.Setup(m => m.PlanAsync(It.IsAny<PlanningRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new ModelReply<string>("""{"tasks": [{"task_id": "T1", "name": "Quokka", "kind": "agent", "agent": "nobody", "depends_on": ["T9"]}]}""", TokenUsage.Zero));
        var planner = new Planner(TimeProvider.System, NullLogger<Planner>.Instance);

        PlanResult result;
        using (OrchflowTelemetry.InRun("run_telemetry3"))
        {
            result = await planner.PlanAsync(model.Object, Definition, Definition.Agents, CancellationToken.None);
        }

        var spans = telemetry.Spans;
        var plan = spans.Single(s => s.OperationName == "orchflow.plan");
        var validations = spans.Where(s => s.OperationName == "orchflow.plan.validate").OrderBy(s => s.StartTimeUtc).ToList();
        var repair = spans.Single(s => s.OperationName == "orchflow.plan.repair");
        var fallback = spans.Single(s => s.OperationName == "orchflow.plan.fallback");
        Assert.Multiple(() =>
        {
            Assert.That(result.Plan.PlannedBy, Does.Contain("fallback"));
            Assert.That(plan.GetTagItem("orchflow.plan.outcome"), Is.EqualTo("fallback"));
            Assert.That(plan.GetTagItem("orchflow.plan.task_count"), Is.EqualTo(result.Plan.Tasks.Count));
            Assert.That(validations.Select(v => v.GetTagItem("orchflow.plan.attempt")), Is.EqualTo(new object[] { 1, 2 }));
            Assert.That(validations.Select(v => v.GetTagItem("orchflow.plan.valid")), Is.All.EqualTo(false));
            Assert.That(validations.Select(v => (int)v.GetTagItem("orchflow.plan.error_count")!), Is.All.GreaterThan(0));
            Assert.That(validations[0].ParentSpanId, Is.EqualTo(plan.SpanId));
            Assert.That(validations[1].ParentSpanId, Is.EqualTo(repair.SpanId), "the second validation is the repair's");
            Assert.That(repair.ParentSpanId, Is.EqualTo(plan.SpanId));
            Assert.That(repair.Status, Is.EqualTo(ActivityStatusCode.Error));
            Assert.That(fallback.ParentSpanId, Is.EqualTo(plan.SpanId));
            Assert.That(spans.Select(s => s.GetTagItem("orchflow.run_id")), Is.All.EqualTo("run_telemetry3"));
        });
        AssertNoText(telemetry, "Quokka", "nobody");
    }

    [Test]
    public void Logged_RunQueuedThenCompleted_CountsStartAndEndAndTimesTheRunFromItsId()
    {
        using var telemetry = new InMemoryTelemetry();
        var started = new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
        var runId = Ids.NewRunId(started);
        var metrics = new RunMetrics(NullLogger<RunMetrics>.Instance);

        metrics.Logged("acc_x", runId, [new RunLogEntry(1, EventTypes.RunQueued, started, null, [])]);
        metrics.Logged("acc_x", runId,
        [
            new RunLogEntry(7, EventTypes.TaskCompleted, started.AddSeconds(90), "T2", []),
            new RunLogEntry(8, EventTypes.RunCompleted, started.AddSeconds(90), null, []),
        ]);

        var ended = telemetry.Points("orchflow.runs.ended").Single();
        var duration = telemetry.Points("orchflow.run.duration").Single();
        Assert.Multiple(() =>
        {
            Assert.That(Ids.RunCreatedAt(runId), Is.EqualTo(started));
            Assert.That(telemetry.Points("orchflow.runs.started").Single().Value, Is.EqualTo(1));
            Assert.That(ended.Tags["orchflow.run.outcome"], Is.EqualTo("completed"));
            Assert.That(ended.Value, Is.EqualTo(1));
            Assert.That(duration.Count, Is.EqualTo(1));
            Assert.That(duration.Value, Is.EqualTo(90).Within(0.001));
        });
    }

    [TestCase(TaskKind.Human, true, "human", "accepted")]
    [TestCase(TaskKind.Agent, false, "agent", "rejected")]
    public void HumanAnswered_TaskWaitingSince_RecordsTheWaitByKindAndDecision(TaskKind kind, bool accepted, string kindTag, string decisionTag)
    {
        using var telemetry = new InMemoryTelemetry();
        var since = new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
        var task = new TaskRecord { TaskId = "T1", Name = "Details", Kind = kind, State = TaskState.WaitingHuman, WaitingSince = since, StartedAt = since.AddHours(-1) };

        OrchflowTelemetry.HumanAnswered(task, accepted, since.AddMinutes(75));

        var wait = telemetry.Points("orchflow.human.wait.duration").Single();
        Assert.Multiple(() =>
        {
            Assert.That(wait.Value, Is.EqualTo(75 * 60).Within(0.001), "from waiting_human, not from the task's start");
            Assert.That(wait.Tags["orchflow.task.kind"], Is.EqualTo(kindTag));
            Assert.That(wait.Tags["orchflow.human.decision"], Is.EqualTo(decisionTag));
        });
    }

    [Test]
    public void StartWebhookDelivery_DeliveredThenRejected_SpansAndCountsEachAttemptByOutcome()
    {
        using var telemetry = new InMemoryTelemetry();

        using (var first = OrchflowTelemetry.StartWebhookDelivery("run_hook", "whk_1", "run.completed", attempt: 1))
        {
            first.Failed(WebhookDelivery.Outcomes.Rejected, 500);
        }

        using (var second = OrchflowTelemetry.StartWebhookDelivery("run_hook", "whk_1", "run.completed", attempt: 2))
        {
            second.Delivered(204);
        }

        var spans = telemetry.Spans.Where(s => s.OperationName == "orchflow.webhook.deliver").ToList();
        var deliveries = telemetry.Points("orchflow.webhook.deliveries");
        Assert.Multiple(() =>
        {
            Assert.That(spans.Select(s => s.GetTagItem("orchflow.webhook.attempt")), Is.EqualTo(new object[] { 1, 2 }));
            Assert.That(spans.Select(s => s.Status), Is.EqualTo(new[] { ActivityStatusCode.Error, ActivityStatusCode.Ok }));
            Assert.That(spans.Select(s => s.GetTagItem("http.response.status_code")), Is.EqualTo(new object[] { 500, 204 }));
            Assert.That(spans.Select(s => s.GetTagItem("orchflow.run_id")), Is.All.EqualTo("run_hook"));
            Assert.That(spans.Select(s => s.GetTagItem("orchflow.webhook.endpoint_id")), Is.All.EqualTo("whk_1"));
            Assert.That(spans.Select(s => s.Kind), Is.All.EqualTo(ActivityKind.Client));
            Assert.That(deliveries.ToDictionary(p => p.Tags["orchflow.webhook.outcome"]!, p => p.Value),
                Is.EquivalentTo(new Dictionary<object, double> { ["rejected"] = 1, ["delivered"] = 1 }));
            Assert.That(telemetry.Points("orchflow.webhook.delivery.duration").Sum(p => p.Count), Is.EqualTo(2));
        });
    }

    [Test]
    public void StreamOpened_TwoOpenOneClosed_CountsOneOpenStream()
    {
        using var telemetry = new InMemoryTelemetry();

        var first = OrchflowTelemetry.StreamOpened();
        using var second = OrchflowTelemetry.StreamOpened();
        first.Dispose();
        first.Dispose();

        Assert.That(telemetry.Points("orchflow.sse.open_streams").Single().Value, Is.EqualTo(1), "a handle disposed twice closes once");
    }

    /// <summary>No span name, attribute or event of any exported span holds any of the texts.</summary>
    static void AssertNoText(InMemoryTelemetry telemetry, params string[] texts)
    {
        var exported = telemetry.Spans.SelectMany(s => new[] { s.OperationName, s.DisplayName, s.StatusDescription ?? "" }
            .Concat(s.TagObjects.Select(t => $"{t.Key}={t.Value}"))
            .Concat(s.Events.SelectMany(e => e.Tags.Select(t => $"{e.Name}:{t.Key}={t.Value}")))).ToList();
        Assert.That(exported, Is.Not.Empty);
        foreach (var text in texts)
        {
            Assert.That(exported, Has.None.Contains(text));
        }
    }

    ChatRunModel Model()
    {
        var options = new ModelOptions { RetryBaseDelayMs = 10, MaxAttempts = 3 };
        var target = ModelTarget.Create("openai_compatible", "llama3.1:8b", new Uri(Server.BaseUri, "v1").ToString(), Key, "prv_test");
        var policy = new ModelCallPolicy(Options.Create(options), TimeProvider.System, NullLogger<ModelCallPolicy>.Instance);
        return new ChatRunModel(ChatRunModel.CreateChatClient(target, Http.UserProviders, options.RequestTimeout), target, policy, options.MaxOutputTokens);
    }

    static AgentTaskRequest TaskRequest()
    {
        var agent = new AgentSpec("writer");
        var task = new PlannedTask("T3", "Draft the note on Quokka", "A one-page note.", TaskKind.Agent, "writer", []);
        return new AgentTaskRequest(Definition.Goal, task, agent, AgentCatalog.SystemPromptFor(agent), []);
    }
}
