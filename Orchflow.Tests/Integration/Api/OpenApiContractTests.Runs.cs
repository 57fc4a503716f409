using System.Net;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing.Template;
using Orchflow.Domain;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>The scenarios of registration and of the run operations: starting, reading, answering, reviewing, cancelling and retrying runs, and their events.</summary>
public sealed partial class OpenApiContractTests
{
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
        await Expect(HttpStatusCode.Accepted, Call("startRun", client, "runs", new { task = Goal, require_plan_approval = true }));
        var spent = await Expect(HttpStatusCode.Accepted, Call("startRun", client, "runs", new { task = Goal, budget = new { max_tokens = 1 } }));
        // Three runs going, the most this host lets an account have: the next start waits for one to end.
        await ExpectProblem("conflict", Call("startRun", client, "runs", new { task = Goal, plan }));
        await Expect(HttpStatusCode.OK, Call("cancelRun", client, $"runs/{spent.Json!.Str("run_id")}"));
        var given = await Expect(HttpStatusCode.Accepted, Call("startRun", client, "runs", new { task = Goal, plan }));
        await WaitAsync(client, given.Json!.Str("run_id"), r => r.Str("status") == "completed");
        await ExpectProblem("trial_exhausted", Call("startRun", client, "runs", new { task = Goal }));
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
        await ExpectProblem("validation_failed", Call("cancelRun", client, $"runs/{completed}?purge=yes"));
        await ExpectProblem("not_found", Call("cancelRun", other, $"runs/{completed}?purge=true"));
        await Expect(HttpStatusCode.Accepted, Call("cancelRun", client, $"runs/{completed}?purge=true"));
        await ExpectProblem("not_found", Call("cancelRun", client, $"runs/{completed}?purge=true"));
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

        // Each retry of a managed run takes a trial run: the fourth and last, then none.
        await Expect(HttpStatusCode.OK, Call("cancelRun", client, $"runs/{cancelled}"));
        await Expect(HttpStatusCode.Accepted, Call("retryRun", client, $"runs/{cancelled}/retry"));
        await WaitAsync(client, cancelled, r => RunGraph.WaitingOn(r).Contains("T1"));
        await Expect(HttpStatusCode.OK, Call("cancelRun", client, $"runs/{cancelled}"));
        await ExpectProblem("trial_exhausted", Call("retryRun", client, $"runs/{cancelled}/retry"));
    }

    async Task CompleteTaskScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        // T1 asks with a form: a topic's text field and a field object's number.
        var budget = new { name = "budget_usd", title = "Monthly budget", type = "integer", minimum = 0 };
        var runId = await StartAsync(client, new { task = Goal, ask_me_about = new object[] { "company details", budget }, require_approval = true });
        await WaitAsync(client, runId, r => RunGraph.WaitingOn(r).Contains("T1"));
        var path = $"runs/{runId}/tasks/T1/complete";
        var key = NewKey();

        await ExpectProblem("validation_failed", Call("completeTask", client, path, new { }));
        await ExpectProblem("validation_failed", Call("completeTask", client, path, new { input = new { company_details = "", budget_usd = -1, colour = "red" } }));
        await ExpectProblem("validation_failed", Call("completeTask", client, path, new { input = "We build workflow APIs." }));
        await ExpectProblem("validation_failed", Call("completeTask", client, path, new { output = "x", tone = "formal" }));
        await Expect(HttpStatusCode.RequestEntityTooLarge, Call("completeTask", client, path, raw: Oversized));
        await ExpectProblem("not_found", Call("completeTask", client, $"runs/{runId}/tasks/T99/complete", new { output = "x" }));
        await ExpectProblem("not_found", Call("completeTask", other, path, new { output = "x" }));
        var answer = new { input = new { company_details = "We build workflow APIs for small teams.", budget_usd = 5000 } };
        var answered = await Expect(HttpStatusCode.OK, Call("completeTask", client, path, answer, idempotencyKey: key));
        Assert.Multiple(() =>
        {
            Assert.That(answered.Json!.Str("state"), Is.EqualTo("completed"));
            Assert.That(answered.Json!["input"]!["budget_usd"]!.GetValue<int>(), Is.EqualTo(5000));
        });
        var replay = await Expect(HttpStatusCode.OK, Call("completeTask", client, path, answer, idempotencyKey: key));
        Assert.That(replay.Header("Idempotent-Replayed"), Is.EqualTo("true"));
        await ExpectProblem("idempotency_mismatch", Call("completeTask", client, path, new { output = "Something else." }, idempotencyKey: key));
        await ExpectProblem("conflict", Call("completeTask", client, path, answer));
        await Expect(HttpStatusCode.Unauthorized, Call("completeTask", Anonymous, path, answer));

        // The agents' drafts: one sent back, then each kept or approved with an edit.
        await DriveApprovalsAsync(client, runId);
    }

    async Task RaiseRunBudgetScenario()
    {
        using var client = await NewAccountAsync();
        using var other = await NewAccountAsync();
        var runId = await StartAsync(client, new { task = Goal, budget = new { max_tokens = 1 } });
        await WaitAsync(client, runId, r => RunGraph.WaitingOn(r).Contains("budget"));

        await ExpectProblem("validation_failed", Call("raiseRunBudget", client, $"runs/{runId}/budget", new { }));
        await ExpectProblem("validation_failed", Call("raiseRunBudget", client, $"runs/{runId}/budget", new { max_tokens = 0 }));
        await ExpectProblem("validation_failed", Call("raiseRunBudget", client, $"runs/{runId}/budget", new { max_tokens = 300_000 }));
        await Expect(HttpStatusCode.RequestEntityTooLarge, Call("raiseRunBudget", client, $"runs/{runId}/budget", raw: Oversized));
        await ExpectProblem("not_found", Call("raiseRunBudget", other, $"runs/{runId}/budget", new { max_tokens = 100_000 }));
        await Expect(HttpStatusCode.Unauthorized, Call("raiseRunBudget", Anonymous, $"runs/{runId}/budget", new { max_tokens = 100_000 }));
        await Expect(HttpStatusCode.OK, Call("raiseRunBudget", client, $"runs/{runId}/budget", new { max_tokens = 100_000 }));
        await WaitAsync(client, runId, r => r.Str("status") == "completed");
        await ExpectProblem("conflict", Call("raiseRunBudget", client, $"runs/{runId}/budget", new { max_tokens = 150_000 }));
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

    /// <summary>The event types of a budget: a run whose plan spends it all, raised by a person.</summary>
    async Task<IEnumerable<string>> BudgetEventTypesAsync()
    {
        using var client = await NewAccountAsync();
        var runId = await StartAsync(client, new { task = Goal, budget = new { max_tokens = 1 } });
        await WaitAsync(client, runId, r => RunGraph.WaitingOn(r).Contains("budget"));
        await Expect(HttpStatusCode.OK, Call("raiseRunBudget", client, $"runs/{runId}/budget", new { max_tokens = 100_000 }));
        await WaitAsync(client, runId, r => r.Str("status") == "completed");
        var page = await Expect(HttpStatusCode.OK, Call("getRunEvents", client, $"runs/{runId}/events?limit=1000"));
        return page.Json!["events"]!.AsArray().Select(e => e!.Str("type"));
    }

    /// <summary>
    /// The event types of tool calls, from three runs of one agent task each on the simulated model: a fetch a person
    /// approves (its host does not resolve, so it fails), one a person refuses, and an MCP tool that answers.
    /// </summary>
    async Task<IEnumerable<string>> ToolCallEventTypesAsync()
    {
        using var client = await NewAccountAsync();
        await using var tools = await LoopbackMcpServer.StartAsync();
        var registered = await Expect(HttpStatusCode.Created, Call("createToolServer", client, "tool-servers", new { url = tools.Url }));
        var lookup = registered.Json!.Str("server_id") + "/lookup";
        object Run(string tool, bool approve) => new
        {
            task = "Read https://pricing.invalid/plans and summarise the plans.",
            plan = new { tasks = new object[] { new { task_id = "T1", name = "Summarise the pricing page", kind = "agent", agent = "research", depends_on = Array.Empty<string>() } } },
            tools = new[] { tool },
            approve_tools = approve ? new[] { tool } : [],
        };

        var approved = await StartAsync(client, Run("fetch_url", approve: true));
        var refused = await StartAsync(client, Run("fetch_url", approve: true));
        var answered = await StartAsync(client, Run(lookup, approve: false));
        await Expect(HttpStatusCode.OK, Call("completeTask", client, $"runs/{approved}/tasks/T1/complete", new { approved = true }, wait: approved));
        await Expect(HttpStatusCode.OK, Call("completeTask", client, $"runs/{refused}/tasks/T1/complete", new { approved = false, feedback = "Not that site." }, wait: refused));

        var types = new HashSet<string>();
        foreach (var runId in new[] { approved, refused, answered })
        {
            await WaitAsync(client, runId, r => r.Str("status") == "completed");
            var page = await Expect(HttpStatusCode.OK, Call("getRunEvents", client, $"runs/{runId}/events?limit=1000"));
            types.UnionWith(page.Json!["events"]!.AsArray().Select(e => e!.Str("type")));
        }

        return types;
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

        logged.UnionWith(await ToolCallEventTypesAsync());
        logged.UnionWith(await BudgetEventTypesAsync());
        Assert.That(logged, Is.EquivalentTo(EventTypes.All), "the runs logged every event type, each checked against the document");
        await ExpectProblem("validation_failed", Call("getRunEvents", client, $"runs/{approved}/events?limit=0"));
        await ExpectProblem("validation_failed", StreamEventsAsync(client, approved, lastEventId: "seven"));
        await ExpectProblem("not_found", Call("getRunEvents", other, $"runs/{approved}/events"));
        await ExpectProblem("not_found", StreamEventsAsync(other, approved));
        await Expect(HttpStatusCode.Unauthorized, Call("getRunEvents", Anonymous, $"runs/{approved}/events"));
    }
}
