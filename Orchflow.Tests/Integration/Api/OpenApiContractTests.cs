using System.Net;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Orchflow.Domain;
using Orchflow.Functions.Http;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// Real responses of every documented operation, over HTTP on the standalone host, checked against the OpenAPI
/// document: each operation is driven to its successes and its common refusals, and every answer on the way must have a
/// documented status, media type, body and headers. An operation the document gains without a scenario here fails; one
/// this build does not serve yet (the webhook routes) is skipped until it does.
/// </summary>
[TestFixture]
public sealed class OpenApiContractTests : HostedTests
{
    const string Goal = RunScenarios.Goal;

    static readonly string Oversized = $$"""{"name":"{{new string('a', 300 * 1024)}}"}""";

    /// <summary>Responses no single client provokes at will: checked elsewhere (429) or never meant to happen (500, 503).</summary>
    static readonly string[] NotProvokedHere =
        ["#/components/responses/TooManyRequests", "#/components/responses/InternalError", "#/components/responses/IdempotencyInProgress"];

    static OpenApiContract Contract => OpenApiContract.Embedded;

    /// <summary>The statuses each operation answered in the current test, all of them checked against the document.</summary>
    readonly Dictionary<string, SortedSet<int>> answered = [];

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__TrialRuns"] = "3",
        ["Orchflow__Engine__MaxReviewRounds"] = "2",
    };

    [SetUp]
    public void ForgetAnswers() => answered.Clear();

    static IEnumerable<TestCaseData> Operations() =>
        OpenApiContract.Embedded.Operations.Select(o => new TestCaseData(o.OperationId).SetArgDisplayNames(o.OperationId!));

    [TestCaseSource(nameof(Operations))]
    public async Task Operation_RealResponses_MatchTheDocument(string operationId)
    {
        var operation = Contract.Operation(operationId);
        if (!FunctionCatalog.Http.Any(f => !f.IsFallback && f.Route == operation.Route && f.Methods.Contains(operation.Method)))
        {
            Assert.Ignore($"{operation} is documented but not in FunctionCatalog.Http: this build does not serve it, so there is nothing to check yet.");
        }

        if (!Scenarios.TryGetValue(operationId, out var scenario))
        {
            Assert.Fail($"No scenario drives {operation} ({operationId}): add one to {nameof(OpenApiContractTests)}.{nameof(Scenarios)}.");
        }

        await scenario!();

        var expected = Contract.Responses(operation)
            .Where(r => r.Component is null || !NotProvokedHere.Contains(r.Component))
            .Where(r => !(operationId == "getHealth" && r.Status == "503"))
            .Select(r => int.Parse(r.Status))
            .ToList();
        Assert.That(answered.GetValueOrDefault(operationId) ?? [], Is.SupersetOf(expected),
            $"{operation}: the scenario must drive every documented response it can provoke");
    }

    IReadOnlyDictionary<string, Func<Task>> Scenarios => new Dictionary<string, Func<Task>>
    {
        ["register"] = RegisterScenario,
        ["getAccount"] = GetAccountScenario,
        ["startRun"] = StartRunScenario,
        ["listRuns"] = ListRunsScenario,
        ["getRun"] = GetRunScenario,
        ["cancelRun"] = CancelRunScenario,
        ["retryRun"] = RetryRunScenario,
        ["getRunTasks"] = GetRunTasksScenario,
        ["completeTask"] = CompleteTaskScenario,
        ["reviewPlan"] = ReviewPlanScenario,
        ["getRunEvents"] = GetRunEventsScenario,
        ["createProvider"] = CreateProviderScenario,
        ["listProviders"] = ListProvidersScenario,
        ["deleteProvider"] = DeleteProviderScenario,
        ["listAgentTemplates"] = () => Call("listAgentTemplates", Anonymous, "agents/templates"),
        ["getHealth"] = () => Call("getHealth", Anonymous, "health"),
        ["getOpenApi"] = GetOpenApiScenario,
        ["createWebhook"] = CreateWebhookScenario,
        ["listWebhooks"] = ListWebhooksScenario,
        ["deleteWebhook"] = DeleteWebhookScenario,
        ["rotateWebhookSecret"] = RotateWebhookSecretScenario,
        ["listWebhookDeliveries"] = ListWebhookDeliveriesScenario,
    };

    // Scenarios, one per operation. Every call goes through Call, which checks the answer against the document.

    async Task RegisterScenario()
    {
        var email = NewEmail();
        await Expect(HttpStatusCode.Created, Call("register", Anonymous, "auth/register", new { name = "Contract", email }));
        await Expect(HttpStatusCode.Conflict, Call("register", Anonymous, "auth/register", new { name = "Again", email = email.ToUpperInvariant() }));
        await Expect(HttpStatusCode.UnprocessableEntity, Call("register", Anonymous, "auth/register", new { name = "No email" }));
        await Expect(HttpStatusCode.UnprocessableEntity, Call("register", Anonymous, "auth/register", raw: "not json"));
        await Expect(HttpStatusCode.RequestEntityTooLarge, Call("register", Anonymous, "auth/register", raw: Oversized));
    }

    async Task GetAccountScenario()
    {
        using var client = await NewAccountAsync();
        await Expect(HttpStatusCode.OK, Call("getAccount", client, "account"));
        await Expect(HttpStatusCode.Unauthorized, Call("getAccount", Anonymous, "account"));
    }

    async Task StartRunScenario()
    {
        using var client = await NewAccountAsync();
        var key = NewKey();
        var body = new
        {
            task = Goal,
            agents = new object[] { new { name = "research" }, new { name = "writer", instructions = "Be brief." } },
            ask_me_about = new[] { "company details" },
            human_gates = new[] { "publish" },
            require_approval = false,
            human_timeout_seconds = 86400,
        };
        var first = await Expect(HttpStatusCode.Accepted, Call("startRun", client, "runs", body, idempotencyKey: key));
        var replay = await Expect(HttpStatusCode.Accepted, Call("startRun", client, "runs", body, idempotencyKey: key));
        Assert.Multiple(() =>
        {
            Assert.That(replay.Header("Idempotent-Replayed"), Is.EqualTo("true"));
            Assert.That(replay.Text, Is.EqualTo(first.Text));
        });
        await ExpectProblem("idempotency_mismatch", Call("startRun", client, "runs", new { task = "Another goal." }, idempotencyKey: key));
        await ExpectProblem("validation_failed", Call("startRun", client, "runs", new { ask_me_about = new[] { "company details" } }));
        await ExpectProblem("validation_failed", Call("startRun", client, "runs", new { task = Goal }, idempotencyKey: new string('k', 256)));
        await ExpectProblem("not_found", Call("startRun", client, "runs", new { task = Goal, provider_id = "prv_0000000000000000" }));
        await Expect(HttpStatusCode.RequestEntityTooLarge, Call("startRun", client, "runs", raw: Oversized));
        await Expect(HttpStatusCode.Unauthorized, Call("startRun", Anonymous, "runs", new { task = Goal }));
        var plan = new
        {
            tasks = new object[]
            {
                new { task_id = "T1", name = "Research competitor pricing", description = "Three competitors.", kind = "agent", agent = "research", depends_on = Array.Empty<string>() },
                new { task_id = "T2", name = "Draft the launch plan", kind = "agent", agent = "writer", depends_on = new[] { "T1" } },
            },
        };
        var given = await Expect(HttpStatusCode.Accepted, Call("startRun", client, "runs", new { task = Goal, plan }));
        await Expect(HttpStatusCode.Accepted, Call("startRun", client, "runs", new { task = Goal, require_plan_approval = true }));
        await ExpectProblem("trial_exhausted", Call("startRun", client, "runs", new { task = Goal }));
        await WaitAsync(client, given.Json!.Str("run_id"), r => r.Str("status") == "completed");
    }

    async Task ListRunsScenario()
    {
        using var client = await NewAccountAsync();
        await Expect(HttpStatusCode.OK, Call("listRuns", client, "runs"));
        await StartAsync(client, new { task = Goal });
        var page = await Expect(HttpStatusCode.OK, Call("listRuns", client, "runs?limit=1&offset=0"));
        Assert.That(page.Json!["runs"]!.AsArray(), Has.Count.EqualTo(1));
        await ExpectProblem("validation_failed", Call("listRuns", client, "runs?limit=0"));
        await ExpectProblem("validation_failed", Call("listRuns", client, "runs?offset=-1"));
        await Expect(HttpStatusCode.Unauthorized, Call("listRuns", Anonymous, "runs"));
    }

    async Task GetRunScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var runId = await StartAsync(client, new { task = Goal, ask_me_about = new[] { "company details" } });
        await WaitAsync(client, runId, r => r.Str("status") == "waiting_human");

        var run = await Expect(HttpStatusCode.OK, Call("getRun", client, $"runs/{runId}"));
        await Expect(HttpStatusCode.NotModified, Call("getRun", client, $"runs/{runId}", header: ("If-None-Match", run.Header("ETag")!)));
        await ExpectProblem("not_found", Call("getRun", other, $"runs/{runId}"));
        await ExpectProblem("not_found", Call("getRun", client, "runs/run_0000000000000000000a"));
        await Expect(HttpStatusCode.Unauthorized, Call("getRun", Anonymous, $"runs/{runId}"));
    }

    async Task GetRunTasksScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var runId = await StartAsync(client, new { task = Goal, ask_me_about = new[] { "company details" } });

        // Read while the run moves on, so tasks are seen pending, running and waiting, until it rests on the person
        // (no agent still running), so the tag sent back below is still the tasks' own.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        ApiResponse tasks;
        while ((tasks = await Expect(HttpStatusCode.OK, Call("getRunTasks", client, $"runs/{runId}/tasks"))).Json!["tasks"]!.AsArray()
                   .Select(t => t!.Str("state")).ToList() is var states && !(states.Contains("waiting_human") && !states.Contains("running")))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"no task of {runId} came to wait for a person: {tasks.Text}");
            await Task.Delay(50);
        }

        // The run's own status follows its tasks by a write: the tag is taken once the run shows it waits too.
        await client.WaitForStatusAsync(runId, "waiting_human");
        tasks = await Expect(HttpStatusCode.OK, Call("getRunTasks", client, $"runs/{runId}/tasks"));
        await Expect(HttpStatusCode.NotModified, Call("getRunTasks", client, $"runs/{runId}/tasks", header: ("If-None-Match", tasks.Header("ETag")!)));
        await ExpectProblem("not_found", Call("getRunTasks", other, $"runs/{runId}/tasks"));
        await Expect(HttpStatusCode.Unauthorized, Call("getRunTasks", Anonymous, $"runs/{runId}/tasks"));
    }

    async Task CancelRunScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var waiting = await StartAsync(client, new { task = Goal, ask_me_about = new[] { "company details" } });
        var completed = await StartAsync(client, new { task = Goal });
        await WaitAsync(client, waiting, r => r.Str("status") == "waiting_human");
        await WaitAsync(client, completed, r => r.Str("status") == "completed");

        await ExpectProblem("not_found", Call("cancelRun", other, $"runs/{waiting}"));
        var cancelled = await Expect(HttpStatusCode.OK, Call("cancelRun", client, $"runs/{waiting}"));
        Assert.That(cancelled.Json!.Str("status"), Is.EqualTo("cancelled"));
        await Expect(HttpStatusCode.OK, Call("cancelRun", client, $"runs/{waiting}"));
        await ExpectProblem("conflict", Call("cancelRun", client, $"runs/{completed}"));
        await Expect(HttpStatusCode.Unauthorized, Call("cancelRun", Anonymous, $"runs/{waiting}"));
    }

    async Task RetryRunScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var cancelled = await StartAsync(client, new { task = Goal, ask_me_about = new[] { "company details" } });
        var completed = await StartAsync(client, new { task = Goal });
        await WaitAsync(client, cancelled, r => r.Str("status") == "waiting_human");
        await Expect(HttpStatusCode.OK, Call("cancelRun", client, $"runs/{cancelled}"));
        await WaitAsync(client, completed, r => r.Str("status") == "completed");
        var key = NewKey();

        await ExpectProblem("not_found", Call("retryRun", other, $"runs/{cancelled}/retry"));
        var retried = await Expect(HttpStatusCode.Accepted, Call("retryRun", client, $"runs/{cancelled}/retry", idempotencyKey: key));
        var replay = await Expect(HttpStatusCode.Accepted, Call("retryRun", client, $"runs/{cancelled}/retry", idempotencyKey: key));
        Assert.Multiple(() =>
        {
            Assert.That(retried.Location, Is.EqualTo($"/api/v1/runs/{cancelled}"));
            Assert.That(replay.Header("Idempotent-Replayed"), Is.EqualTo("true"));
        });
        // The key's request was the retry of another run: the same key here is another request.
        await ExpectProblem("idempotency_mismatch", Call("retryRun", client, $"runs/{completed}/retry", idempotencyKey: key));
        await ExpectProblem("validation_failed", Call("retryRun", client, $"runs/{completed}/retry", idempotencyKey: new string('k', 256)));
        await ExpectProblem("conflict", Call("retryRun", client, $"runs/{completed}/retry"));
        await Expect(HttpStatusCode.Unauthorized, Call("retryRun", Anonymous, $"runs/{completed}/retry"));
        await WaitAsync(client, cancelled, r => RunGraph.WaitingOn(r).Contains("T1"));
    }

    async Task CompleteTaskScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var runId = await StartAsync(client, new { task = Goal, ask_me_about = new[] { "company details" }, require_approval = true });
        await WaitAsync(client, runId, r => RunGraph.WaitingOn(r).Contains("T1"));
        var path = $"runs/{runId}/tasks/T1/complete";
        var key = NewKey();

        await ExpectProblem("validation_failed", Call("completeTask", client, path, new { }));
        await ExpectProblem("validation_failed", Call("completeTask", client, path, new { output = "x", tone = "formal" }));
        await Expect(HttpStatusCode.RequestEntityTooLarge, Call("completeTask", client, path, raw: Oversized));
        await ExpectProblem("not_found", Call("completeTask", client, $"runs/{runId}/tasks/T99/complete", new { output = "x" }));
        await ExpectProblem("not_found", Call("completeTask", other, path, new { output = "x" }));
        var answer = new { output = "We build workflow APIs for small teams." };
        var answered = await Expect(HttpStatusCode.OK, Call("completeTask", client, path, answer, idempotencyKey: key));
        Assert.That(answered.Json!.Str("state"), Is.EqualTo("completed"));
        var replay = await Expect(HttpStatusCode.OK, Call("completeTask", client, path, answer, idempotencyKey: key));
        Assert.That(replay.Header("Idempotent-Replayed"), Is.EqualTo("true"));
        await ExpectProblem("idempotency_mismatch", Call("completeTask", client, path, new { output = "Something else." }, idempotencyKey: key));
        await ExpectProblem("conflict", Call("completeTask", client, path, answer));
        await Expect(HttpStatusCode.Unauthorized, Call("completeTask", Anonymous, path, answer));

        // The agents' drafts: one sent back, then each kept or approved with an edit.
        await DriveApprovalsAsync(client, runId);
    }

    async Task ReviewPlanScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var runId = await StartAsync(client, new { task = Goal, require_plan_approval = true });
        await WaitAsync(client, runId, r => RunGraph.WaitingOn(r).Contains("plan"));
        var path = $"runs/{runId}/plan/review";
        var key = NewKey();

        await ExpectProblem("validation_failed", Call("reviewPlan", client, path, new { feedback = "Shorter." }));
        await ExpectProblem("validation_failed", Call("reviewPlan", client, path, new
        {
            approved = true,
            plan = new { tasks = new object[] { new { task_id = "T1", name = "Research", kind = "agent", agent = "ghost", depends_on = Array.Empty<string>() } } },
        }));
        await Expect(HttpStatusCode.RequestEntityTooLarge, Call("reviewPlan", client, path, raw: Oversized));
        await ExpectProblem("not_found", Call("reviewPlan", other, path, new { approved = true }));
        var sendBack = new { approved = false, feedback = "Add a step to check the legal terms." };
        await Expect(HttpStatusCode.OK, Call("reviewPlan", client, path, sendBack, idempotencyKey: key));
        var replay = await Expect(HttpStatusCode.OK, Call("reviewPlan", client, path, sendBack, idempotencyKey: key));
        Assert.That(replay.Header("Idempotent-Replayed"), Is.EqualTo("true"));
        await ExpectProblem("idempotency_mismatch", Call("reviewPlan", client, path, new { approved = true }, idempotencyKey: key));
        await WaitAsync(client, runId, r => RunGraph.WaitingOn(r).Contains("plan"));
        var edited = new
        {
            approved = true,
            plan = new
            {
                tasks = new object[]
                {
                    new { task_id = "T1", name = "Research competitor pricing", kind = "agent", agent = "research", depends_on = Array.Empty<string>() },
                    new { task_id = "T2", name = "Check the legal terms", kind = "agent", agent = "analyst", depends_on = new[] { "T1" } },
                    new { task_id = "T3", name = "Draft the launch plan", kind = "agent", agent = "writer", depends_on = new[] { "T2" } },
                },
            },
        };
        await Expect(HttpStatusCode.OK, Call("reviewPlan", client, path, edited));
        await ExpectProblem("conflict", Call("reviewPlan", client, path, new { approved = true }));
        await Expect(HttpStatusCode.Unauthorized, Call("reviewPlan", Anonymous, path, new { approved = true }));
        await WaitAsync(client, runId, r => r.Str("status") == "completed");
    }

    async Task GetRunEventsScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();

        // Three runs that between them log every event type: drafts approved and sent back; a plan reviewed, then the
        // run cancelled, retried and finished; a human's answer that never came.
        var approved = await StartAsync(client, new { task = Goal, ask_me_about = new[] { "company details" }, require_approval = true });
        var reviewed = await StartAsync(client, new { task = Goal, ask_me_about = new[] { "company details" }, require_plan_approval = true });
        var timedOut = await StartAsync(client, new { task = Goal, ask_me_about = new[] { "company details" }, human_timeout_seconds = 1 });

        await Expect(HttpStatusCode.OK, Call("completeTask", client, $"runs/{approved}/tasks/T1/complete", new { output = "We build workflow APIs." }, wait: approved));
        await DriveApprovalsAsync(client, approved);

        await WaitAsync(client, reviewed, r => RunGraph.WaitingOn(r).Contains("plan"));
        await Expect(HttpStatusCode.OK, Call("reviewPlan", client, $"runs/{reviewed}/plan/review", new { approved = false, feedback = "Keep it short." }));
        await WaitAsync(client, reviewed, r => RunGraph.WaitingOn(r).Contains("plan"));
        await Expect(HttpStatusCode.OK, Call("reviewPlan", client, $"runs/{reviewed}/plan/review", new { approved = true }));
        await WaitAsync(client, reviewed, r => RunGraph.WaitingOn(r).Contains("T1"));
        await Expect(HttpStatusCode.OK, Call("cancelRun", client, $"runs/{reviewed}"));
        await Expect(HttpStatusCode.Accepted, Call("retryRun", client, $"runs/{reviewed}/retry"));
        await Expect(HttpStatusCode.OK, Call("completeTask", client, $"runs/{reviewed}/tasks/T1/complete", new { output = "We build workflow APIs." }, wait: reviewed));
        await WaitAsync(client, reviewed, r => r.Str("status") == "completed");

        await WaitAsync(client, timedOut, r => r.Str("status") == "failed");

        var logged = new HashSet<string>();
        foreach (var runId in new[] { approved, reviewed, timedOut })
        {
            var page = await Expect(HttpStatusCode.OK, Call("getRunEvents", client, $"runs/{runId}/events?limit=1000"));
            logged.UnionWith(page.Json!["events"]!.AsArray().Select(e => e!.Str("type")));
            await Expect(HttpStatusCode.NotModified, Call("getRunEvents", client, $"runs/{runId}/events?limit=1000", header: ("If-None-Match", page.Header("ETag")!)));
            await Expect(HttpStatusCode.OK, Call("getRunEvents", client, $"runs/{runId}/events?after=2&limit=2"));

            // The same log replayed as a stream, read as an EventSource reads it: the server closes after a terminal
            // event (a retried run's log goes on past the attempt that ended), the client reconnects with the last
            // id it saw, and 204 says there is nothing more.
            var streamed = new List<SseItem<string>>();
            for (var connection = 0; connection < 5; connection++)
            {
                var stream = await StreamEventsAsync(client, runId, lastEventId: streamed.Count > 0 ? streamed[^1].EventId : null);
                if (stream.Status == HttpStatusCode.NoContent)
                {
                    break;
                }

                Assert.That(stream.Status, Is.EqualTo(HttpStatusCode.OK), stream.Text);
                streamed.AddRange(SseParser.Create(new MemoryStream(Encoding.UTF8.GetBytes(stream.Text))).Enumerate());
            }

            Assert.That(streamed.Select(i => i.EventId), Is.EqualTo(page.Json!["events"]!.AsArray().Select(e => e!["sequence"]!.ToString())),
                "every event once, in order, then 204");
            Assert.Multiple(() =>
            {
                foreach (var item in streamed)
                {
                    Assert.That(Contract.CheckSchema("RunEvent", JsonNode.Parse(item.Data)), Is.Empty, $"streamed event {item.EventId}: {item.Data}");
                    Assert.That(item.EventType, Is.EqualTo(JsonNode.Parse(item.Data)!.Str("type")));
                }
            });
        }

        Assert.That(logged, Is.EquivalentTo(EventTypes.All), "the runs logged every event type, each checked against the document");
        await ExpectProblem("validation_failed", Call("getRunEvents", client, $"runs/{approved}/events?limit=0"));
        await ExpectProblem("validation_failed", StreamEventsAsync(client, approved, lastEventId: "seven"));
        await ExpectProblem("not_found", Call("getRunEvents", other, $"runs/{approved}/events"));
        await ExpectProblem("not_found", StreamEventsAsync(other, approved));
        await Expect(HttpStatusCode.Unauthorized, Call("getRunEvents", Anonymous, $"runs/{approved}/events"));
    }

    async Task CreateProviderScenario()
    {
        using var client = await NewAccountAsync();
        var key = NewKey();
        var body = new { provider = "openai", api_key = "sk-contract-" + Guid.NewGuid().ToString("N"), label = "Contract", model = "gpt-4o-mini" };

        var created = await Expect(HttpStatusCode.Created, Call("createProvider", client, "providers", body, idempotencyKey: key));
        var replay = await Expect(HttpStatusCode.Created, Call("createProvider", client, "providers", body, idempotencyKey: key));
        Assert.Multiple(() =>
        {
            Assert.That(replay.Header("Idempotent-Replayed"), Is.EqualTo("true"));
            Assert.That(replay.Json!.Str("provider_id"), Is.EqualTo(created.Json!.Str("provider_id")));
        });
        await Expect(HttpStatusCode.Created, Call("createProvider", client, "providers",
            new { provider = "openai_compatible", api_key = "ollama", model = "llama3.1:8b", endpoint = "http://127.0.0.1:11434/v1" }));
        await ExpectProblem("idempotency_mismatch", Call("createProvider", client, "providers", body with { label = "Other" }, idempotencyKey: key));
        await ExpectProblem("validation_failed", Call("createProvider", client, "providers", new { provider = "skynet", api_key = "k", model = "m" }));
        await ExpectProblem("validation_failed", Call("createProvider", client, "providers", new { provider = "azure_openai", api_key = "k", model = "m" }));
        await Expect(HttpStatusCode.RequestEntityTooLarge, Call("createProvider", client, "providers", raw: Oversized));
        await Expect(HttpStatusCode.Unauthorized, Call("createProvider", Anonymous, "providers", body));
    }

    async Task ListProvidersScenario()
    {
        using var client = await NewAccountAsync();
        await Expect(HttpStatusCode.OK, Call("listProviders", client, "providers"));
        await Expect(HttpStatusCode.Created, Call("createProvider", client, "providers", new { provider = "gemini", api_key = "g-contract-key-123456", model = "gemini-2.0-flash" }));
        var list = await Expect(HttpStatusCode.OK, Call("listProviders", client, "providers"));
        Assert.That(list.Json!["providers"]!.AsArray(), Has.Count.EqualTo(1));
        await Expect(HttpStatusCode.Unauthorized, Call("listProviders", Anonymous, "providers"));
    }

    async Task DeleteProviderScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var created = await Expect(HttpStatusCode.Created, Call("createProvider", client, "providers", new { provider = "anthropic", api_key = "short", model = "claude" }));
        var path = $"providers/{created.Json!.Str("provider_id")}";

        await ExpectProblem("not_found", Call("deleteProvider", other, path));
        await Expect(HttpStatusCode.NoContent, Call("deleteProvider", client, path));
        await ExpectProblem("not_found", Call("deleteProvider", client, path));
        await Expect(HttpStatusCode.Unauthorized, Call("deleteProvider", Anonymous, path));
    }

    async Task GetOpenApiScenario()
    {
        var served = await Expect(HttpStatusCode.OK, Call("getOpenApi", Anonymous, "openapi.json"));
        Assert.That(JsonNode.DeepEquals(served.Json, JsonNode.Parse(OpenApiContract.EmbeddedText())), Is.True, "the host serves the document in the repository");
    }

    // Webhooks: as docs/api.md "Webhooks" describes them. These run once FunctionCatalog.Http has the routes.

    async Task CreateWebhookScenario()
    {
        using var client = await NewAccountAsync();
        var key = NewKey();
        var body = new { url = "http://127.0.0.1:9/orchflow-hook", events = new[] { "run.waiting_human", "run.completed" }, description = "Contract" };

        var created = await Expect(HttpStatusCode.Created, Call("createWebhook", client, "webhooks", body, idempotencyKey: key));
        var replay = await Expect(HttpStatusCode.Created, Call("createWebhook", client, "webhooks", body, idempotencyKey: key));
        Assert.That(replay.Json!.Str("webhook_id"), Is.EqualTo(created.Json!.Str("webhook_id")));
        await Expect(HttpStatusCode.Created, Call("createWebhook", client, "webhooks", new { url = "http://127.0.0.1:9/defaults" }));
        await ExpectProblem("idempotency_mismatch", Call("createWebhook", client, "webhooks", new { url = "http://127.0.0.1:9/other" }, idempotencyKey: key));
        await ExpectProblem("validation_failed", Call("createWebhook", client, "webhooks", new { url = "ftp://example.org/hook" }));
        await ExpectProblem("validation_failed", Call("createWebhook", client, "webhooks", new { url = "http://127.0.0.1:9/hook", events = new[] { "run.exploded" } }));
        await Expect(HttpStatusCode.RequestEntityTooLarge, Call("createWebhook", client, "webhooks", raw: Oversized));
        await Expect(HttpStatusCode.Unauthorized, Call("createWebhook", Anonymous, "webhooks", body));
    }

    async Task ListWebhooksScenario()
    {
        using var client = await NewAccountAsync();
        await Expect(HttpStatusCode.OK, Call("listWebhooks", client, "webhooks"));
        await Expect(HttpStatusCode.Created, Call("createWebhook", client, "webhooks", new { url = "http://127.0.0.1:9/hook" }));
        var list = await Expect(HttpStatusCode.OK, Call("listWebhooks", client, "webhooks"));
        Assert.That(list.Json!["webhooks"]!.AsArray(), Has.Count.EqualTo(1));
        await Expect(HttpStatusCode.Unauthorized, Call("listWebhooks", Anonymous, "webhooks"));
    }

    async Task DeleteWebhookScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var path = $"webhooks/{await NewWebhookAsync(client)}";

        await ExpectProblem("not_found", Call("deleteWebhook", other, path));
        await Expect(HttpStatusCode.NoContent, Call("deleteWebhook", client, path));
        await ExpectProblem("not_found", Call("deleteWebhook", client, path));
        await Expect(HttpStatusCode.Unauthorized, Call("deleteWebhook", Anonymous, path));
    }

    async Task RotateWebhookSecretScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var path = $"webhooks/{await NewWebhookAsync(client)}/rotate-secret";

        await ExpectProblem("not_found", Call("rotateWebhookSecret", other, path));
        await Expect(HttpStatusCode.OK, Call("rotateWebhookSecret", client, path));
        await Expect(HttpStatusCode.Unauthorized, Call("rotateWebhookSecret", Anonymous, path));
    }

    async Task ListWebhookDeliveriesScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var webhookId = await NewWebhookAsync(client);
        await StartAsync(client, new { task = Goal, ask_me_about = new[] { "company details" } });

        await Expect(HttpStatusCode.OK, Call("listWebhookDeliveries", client, $"webhooks/{webhookId}/deliveries?limit=5"));
        await ExpectProblem("validation_failed", Call("listWebhookDeliveries", client, $"webhooks/{webhookId}/deliveries?limit=0"));
        await ExpectProblem("not_found", Call("listWebhookDeliveries", other, $"webhooks/{webhookId}/deliveries"));
        await Expect(HttpStatusCode.Unauthorized, Call("listWebhookDeliveries", Anonymous, $"webhooks/{webhookId}/deliveries"));
    }

    async Task<string> NewWebhookAsync(OrchflowClient client) =>
        (await Expect(HttpStatusCode.Created, Call("createWebhook", client, "webhooks", new { url = "http://127.0.0.1:9/hook" }))).Json!.Str("webhook_id");

    // Helpers.

    /// <summary>
    /// Sends the request an operation takes and checks the answer against the document; <paramref name="wait"/> first
    /// waits until the run waits on the task named in the path.
    /// </summary>
    async Task<ApiResponse> Call(string operationId, OrchflowClient client, string path, object? body = null, string? raw = null,
        (string Name, string Value)? header = null, string? idempotencyKey = null, string? wait = null)
    {
        var operation = Contract.Operation(operationId);
        AssertPathIsOf(operation, path);
        if (wait is not null)
        {
            var taskId = path.Split('/')[^2];
            await WaitAsync(client, wait, r => RunGraph.WaitingOn(r).Contains(taskId));
        }

        var response = await client.SendRawAsync(new HttpMethod(operation.Method), path, raw ?? (body is null ? null : JsonSerializer.Serialize(body)),
            header: idempotencyKey is null ? header : ("Idempotency-Key", idempotencyKey));
        Verify(operation, response);
        return response;
    }

    /// <summary>The events route with <c>Accept: text/event-stream</c>, read to its end (for a run that has ended, the server closes it).</summary>
    async Task<ApiResponse> StreamEventsAsync(OrchflowClient client, string runId, string? lastEventId = null)
    {
        var operation = Contract.Operation("getRunEvents");
        using var http = new HttpClient { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"runs/{runId}/events");
        request.Headers.Add("X-API-Key", client.ApiKey);
        request.Headers.Add("Accept", "text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var answer = await http.SendAsync(request);
        var text = await answer.Content.ReadAsStringAsync();
        var media = answer.Content.Headers.ContentType?.MediaType;
        var response = new ApiResponse(answer.StatusCode, text, media?.Contains("json") == true ? JsonNode.Parse(text) : null, media, null)
        {
            Headers = answer.Headers.Concat(answer.Content.Headers).ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase),
        };
        Verify(operation, response);
        return response;
    }

    void Verify(OpenApiOperation operation, ApiResponse response)
    {
        var problems = Contract.Check(operation, response);
        if (problems.Count > 0)
        {
            Assert.Fail($"{operation} answered {(int)response.Status} {response.ContentType} in a way the document does not describe:\n  - " +
                        string.Join("\n  - ", problems.Take(30)) + $"\nBody: {(response.Text.Length > 2000 ? response.Text[..2000] + "…" : response.Text)}");
        }

        if (!answered.TryGetValue(operation.OperationId!, out var statuses))
        {
            answered[operation.OperationId!] = statuses = [];
        }

        statuses.Add((int)response.Status);
    }

    static void AssertPathIsOf(OpenApiOperation operation, string path)
    {
        var matcher = new TemplateMatcher(TemplateParser.Parse(operation.Path.TrimStart('/')), new RouteValueDictionary());
        Assert.That(matcher.TryMatch("/" + path.Split('?')[0], new RouteValueDictionary()), Is.True, $"{path} is not a path of {operation}");
    }

    static async Task<ApiResponse> Expect(HttpStatusCode status, Task<ApiResponse> call)
    {
        var response = await call;
        Assert.That(response.Status, Is.EqualTo(status), response.Text);
        return response;
    }

    static async Task<ApiResponse> ExpectProblem(string code, Task<ApiResponse> call)
    {
        var response = await call;
        Assert.That(response.Code, Is.EqualTo(code), response.Text);
        return response;
    }

    /// <summary>Registers an account through the operation, checked like any other answer.</summary>
    async Task<OrchflowClient> NewAccountAsync()
    {
        var registered = await Expect(HttpStatusCode.Created, Call("register", Anonymous, "auth/register", new { name = "Contract user", email = NewEmail() }));
        return Anonymous.WithKey(registered.Json!.Str("api_key"));
    }

    async Task<string> StartAsync(OrchflowClient client, object body) =>
        (await Expect(HttpStatusCode.Accepted, Call("startRun", client, "runs", body))).Json!.Str("run_id");

    /// <summary>Polls the run, checking every state it is seen in against the document, until the condition holds.</summary>
    async Task<JsonNode> WaitAsync(OrchflowClient client, string runId, Func<JsonNode, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var run = (await Expect(HttpStatusCode.OK, Call("getRun", client, $"runs/{runId}"))).Json!;
            if (condition(run))
            {
                return run;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Run {runId} did not reach the expected state in time:\n{RunGraph.Describe(run)}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Answers an approval run's drafts until it completes: the first sent back, the next approved with an edit, the rest kept.</summary>
    async Task DriveApprovalsAsync(OrchflowClient client, string runId)
    {
        var verdicts = new Queue<object>([new { approved = false, feedback = "Name the sources." }, new { output = "An edited draft." }]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            var run = await WaitAsync(client, runId, r => r.Str("status") is "waiting_human" or "completed" or "failed" or "cancelled");
            if (run.Str("status") != "waiting_human")
            {
                Assert.That(run.Str("status"), Is.EqualTo("completed"), RunGraph.Describe(run));
                return;
            }

            // An answered task shows its new state at once, so the next look sees only tasks still to answer.
            foreach (var task in RunGraph.Tasks(run).Where(t => RunGraph.State(t) == "waiting_human"))
            {
                object verdict = task.Str("kind") == "human" ? new { output = "We build workflow APIs." }
                    : verdicts.Count > 0 ? verdicts.Dequeue() : new { approved = true };
                await Expect(HttpStatusCode.OK, Call("completeTask", client, $"runs/{runId}/tasks/{RunGraph.Id(task)}/complete", verdict));
            }

            await Task.Delay(50);
        }

        Assert.Fail($"Run {runId} did not complete in time.");
    }

    static string NewEmail() => $"{Guid.NewGuid():N}@example.com";

    static string NewKey() => "contract-" + Guid.NewGuid().ToString("N");
}
