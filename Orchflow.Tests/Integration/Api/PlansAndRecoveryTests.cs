using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// Plans a client gives, plans a person reviews before any agent starts, and failed runs retried from where they
/// stopped — over real HTTP on the standalone host, on a loopback model server where the model's calls matter.
/// </summary>
[TestFixture]
public sealed class PlansAndRecoveryTests : HostedModelTests
{
    const string Goal = "Research competitor pricing. Draft a launch plan for our product.";

    /// <summary>A workflow a team defined itself: the person's context first, research beside it, writing last.</summary>
    static readonly object GivenPlan = new
    {
        tasks = new object[]
        {
            new { task_id = "T1", name = "Provide company details", kind = "human", depends_on = Array.Empty<string>(), prompt = "Tell us your company details." },
            new { task_id = "T2", name = "Research competitor pricing", description = "Prices of three competitors.", kind = "agent", agent = "research", depends_on = Array.Empty<string>() },
            new { task_id = "T3", name = "Draft the launch plan", description = "One page.", kind = "agent", agent = "writer", depends_on = new[] { "T1", "T2" } },
        },
    };

    /// <summary>A model that refuses to plan (a 500 each time) and answers every other call.</summary>
    protected override CooperativeModel Cooperative { get; } = new(plan: null);

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__Models__RetryBaseDelayMs"] = "20",
        ["Orchflow__Models__MaxAttempts"] = "2",
        ["Orchflow__Engine__MaxReviewRounds"] = "2",
    };

    [Test]
    public async Task GivenPlan_RunsExactlyAsGivenWithoutAPlanningCall_AndPausesWhereItSays()
    {
        using var client = await RegisterAsync();
        var providerId = (await client.CreateProviderAsync(new Uri(ModelServer.BaseUri, "v1"))).ProviderId;

        var runId = (await client.StartRunAsync(new { task = Goal, provider_id = providerId, ask_me_about = new[] { "company details" }, plan = GivenPlan })).Str("run_id");
        var waiting = await client.WaitForStatusAsync(runId, "waiting_human");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "We build workflow APIs." }), HttpStatusCode.OK);
        var done = await client.WaitForStatusAsync(runId, "completed");

        Assert.Multiple(() =>
        {
            Assert.That(done.Str("planned_by"), Is.EqualTo("user"));
            Assert.That(RunGraph.Tasks(done).Select(t => (RunGraph.Id(t), t.Str("name"), t.Str("kind"), string.Join(",", RunGraph.DependsOn(t)))),
                Is.EqualTo(new[]
                {
                    ("T1", "Provide company details", "human", ""),
                    ("T2", "Research competitor pricing", "agent", ""),
                    ("T3", "Draft the launch plan", "agent", "T1,T2"),
                }));
            Assert.That(RunGraph.Task(waiting, "T1").Str("prompt"), Is.EqualTo("Tell us your company details."));
            Assert.That(RunGraph.WaitingOn(waiting), Is.EqualTo(new[] { "T1" }));
            Assert.That(ModelServer.Requests.Count(r => r.IsPlanner), Is.Zero, "no model plans a given plan");
            Assert.That(ModelServer.Requests.Select(r => r.TaskId).OfType<string>(), Is.EquivalentTo(new[] { "T2", "T3" }));
        });
    }

    static TestCaseData InvalidPlan(string scenario, string plan, params string[] fields) =>
        new TestCaseData(plan, false, fields).SetName($"StartRun_GivenPlan{scenario}_Returns422NamingEveryField");

    static IEnumerable<TestCaseData> InvalidPlans()
    {
        const string research = """{"task_id":"T1","name":"Research","kind":"agent","agent":"research","depends_on":[]}""";
        yield return InvalidPlan("WithoutTasks", "{}", "plan.tasks");
        yield return InvalidPlan("WithNoTask", """{"tasks":[]}""", "plan.tasks");
        yield return InvalidPlan("OfTwentyOneTasks", "{\"tasks\":[" + string.Join(",", Enumerable.Range(1, 21).Select(i =>
            $$"""{"task_id":"T{{i}}","name":"Step {{i}}","kind":"agent","agent":"research","depends_on":[]}""")) + "]}", "plan.tasks");
        yield return InvalidPlan("WithIdsOutOfOrder", "{\"tasks\":[" + research + """,{"task_id":"T3","name":"Write","kind":"agent","agent":"writer","depends_on":[]}]}""", "plan.tasks[1].task_id");
        yield return InvalidPlan("WithAnUnknownAgent", """{"tasks":[{"task_id":"T1","name":"Research","kind":"agent","agent":"ghost","depends_on":[]}]}""", "plan.tasks[0].agent");
        yield return InvalidPlan("WithAnAgentTaskWithoutAgent", """{"tasks":[{"task_id":"T1","name":"Research","kind":"agent","depends_on":[]}]}""", "plan.tasks[0].agent");
        yield return InvalidPlan("WithAHumanTaskWithoutPrompt", """{"tasks":[{"task_id":"T1","name":"Ask","kind":"human","depends_on":[]}]}""", "plan.tasks[0].prompt");
        yield return InvalidPlan("WithAnUnknownDependency", "{\"tasks\":[" + research + """,{"task_id":"T2","name":"Write","kind":"agent","agent":"writer","depends_on":["T9"]}]}""", "plan.tasks[1].depends_on");
        yield return InvalidPlan("WithACycle", """{"tasks":[{"task_id":"T1","name":"A","kind":"agent","agent":"research","depends_on":["T2"]},{"task_id":"T2","name":"B","kind":"agent","agent":"writer","depends_on":["T1"]}]}""", "plan.tasks[0].depends_on");
        yield return InvalidPlan("WithoutAKind", """{"tasks":[{"task_id":"T1","name":"Research","agent":"research","depends_on":[]}]}""", "plan.tasks[0].kind");
        yield return InvalidPlan("WithAnUnknownKind", """{"tasks":[{"task_id":"T1","name":"Research","kind":"robot","agent":"research","depends_on":[]}]}""", "plan.tasks[0].kind");
        yield return InvalidPlan("WithoutAName", """{"tasks":[{"task_id":"T1","kind":"agent","agent":"research","depends_on":[]}]}""", "plan.tasks[0].name");
        yield return InvalidPlan("WithANameOver200Characters", $$"""{"tasks":[{"task_id":"T1","name":"{{new string('n', 201)}}","kind":"agent","agent":"research","depends_on":[]}]}""", "plan.tasks[0].name");
        yield return new TestCaseData("{\"tasks\":[" + research + "]}", true, new[] { "plan.tasks" })
            .SetName("StartRun_GivenPlanNotAskingTheAskMeAboutTopic_Returns422NamingEveryField");
        yield return InvalidPlan("WithSeveralProblems",
            """{"tasks":[{"task_id":"T1","name":"A","kind":"agent","agent":"ghost","depends_on":["T7"]},{"task_id":"T2","name":"B","kind":"human","depends_on":[]}]}""",
            "plan.tasks[0].agent", "plan.tasks[0].depends_on", "plan.tasks[1].prompt");
    }

    [TestCaseSource(nameof(InvalidPlans))]
    public async Task StartRun_GivenPlanInvalid_Returns422NamingEveryField(string plan, bool askMeAbout, string[] fields)
    {
        using var client = await RegisterAsync();
        var topics = askMeAbout ? ",\"ask_me_about\":[\"company details\"]" : "";

        var response = await client.SendRawAsync(HttpMethod.Post, "runs", $$"""{"task":"{{Goal}}"{{topics}},"plan":{{plan}}}""");

        foreach (var field in fields)
        {
            ApiAssert.Invalid(response, field);
        }

        Assert.That(ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "runs"), HttpStatusCode.OK)["total"]!.GetValue<int>(), Is.Zero);
    }

    [Test]
    public async Task ReviewedPlan_EditedThenApproved_RunsAsEditedAndNothingStartedBefore()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = Goal, require_plan_approval = true })).Str("run_id");

        var waiting = await client.WaitForRunAsync(runId, r => RunGraph.WaitingOn(r).Contains("plan"));
        var invalid = await ReviewAsync(client, runId, new { approved = true, plan = new { tasks = new object[] { new { task_id = "T1", name = "x", kind = "agent", agent = "ghost", depends_on = Array.Empty<string>() } } } });
        var stillWaiting = await client.GetRunAsync(runId);
        var edited = await ReviewAsync(client, runId, new
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
        });
        var again = await ReviewAsync(client, runId, new { approved = true });
        var done = await client.WaitForStatusAsync(runId, "completed");

        Assert.Multiple(() =>
        {
            Assert.That(waiting.Str("status"), Is.EqualTo("waiting_human"));
            Assert.That(RunGraph.WaitingOn(waiting), Is.EqualTo(new[] { "plan" }));
            Assert.That(RunGraph.Tasks(waiting).Select(RunGraph.State), Is.Not.Empty.And.All.EqualTo("pending"), "no agent runs before the review");
            ApiAssert.Invalid(invalid, "plan.tasks[0].agent");
            Assert.That(RunGraph.WaitingOn(stillWaiting), Is.EqualTo(new[] { "plan" }), "an invalid edit leaves the run waiting");
            Assert.That(edited.Status, Is.EqualTo(HttpStatusCode.OK), edited.Text);
            ApiAssert.Problem(again, HttpStatusCode.Conflict, "conflict");
            Assert.That(RunGraph.Tasks(done).Select(t => t.Str("name")), Is.EqualTo(new[] { "Research competitor pricing", "Check the legal terms", "Draft the launch plan" }));
            Assert.That(RunGraph.Tasks(done).Select(RunGraph.State), Is.All.EqualTo("completed"));
            Assert.That(done.Str("planned_by"), Is.EqualTo("user"));
        });
        var types = (await client.EventsAsync(runId)).Select(e => e.Str("type")).ToList();
        Assert.That(types, Is.SupersetOf(new[] { "plan.waiting_review", "plan.reviewed" }));
        Assert.That(types.IndexOf("plan.reviewed"), Is.LessThan(types.IndexOf("task.started")), "the review came before any task started");
    }

    [Test]
    public async Task ReviewedPlan_SentBackWithFeedback_ComesBackChangedAndRunsOnceApproved()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = Goal, require_plan_approval = true })).Str("run_id");
        var first = await client.WaitForRunAsync(runId, r => RunGraph.WaitingOn(r).Contains("plan"));

        var sentBack = await ReviewAsync(client, runId, new { approved = false, feedback = "Add a step to check the legal terms." });
        var second = await client.WaitForRunAsync(runId, r => RunGraph.WaitingOn(r).Contains("plan") && RunGraph.Tasks(r).Count != RunGraph.Tasks(first).Count);
        ApiAssert.Json(await ReviewAsync(client, runId, new { approved = true }), HttpStatusCode.OK);
        var done = await client.WaitForStatusAsync(runId, "completed");

        Assert.Multiple(() =>
        {
            Assert.That(sentBack.Status, Is.EqualTo(HttpStatusCode.OK), sentBack.Text);
            Assert.That(RunGraph.Tasks(first).Select(t => t.Str("name")), Has.None.Contains("legal terms"));
            Assert.That(RunGraph.Tasks(second).Select(t => t.Str("name")), Has.Some.Contains("legal terms"), "the planner took the feedback in");
            Assert.That(RunGraph.Tasks(done).Select(RunGraph.State), Is.All.EqualTo("completed"));
        });
    }

    [Test]
    public async Task ReviewPlan_RunNotWaitingOnItsPlan_Returns409AndAnotherAccounts404()
    {
        using var client = await RegisterAsync();
        using var other = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);

        var notWaiting = await ReviewAsync(client, runId, new { approved = true });
        var foreign = await ReviewAsync(other, runId, new { approved = true });
        var noVerdict = await ReviewAsync(client, runId, new { feedback = "?" });

        Assert.Multiple(() =>
        {
            ApiAssert.Problem(notWaiting, HttpStatusCode.Conflict, "conflict");
            ApiAssert.Problem(foreign, HttpStatusCode.NotFound, "not_found");
            ApiAssert.Invalid(noVerdict, "approved");
        });
    }

    [Test]
    public async Task Retry_RunThatFailedAtItsLastTask_CompletesWithoutCallingTheModelAgainForWhatCompleted()
    {
        using var client = await RegisterAsync();
        var providerId = (await client.CreateProviderAsync(new Uri(ModelServer.BaseUri, "v1"))).ProviderId;
        ModelServer.Responder = r => r.TaskId == "T3" ? FakeReply.ServerError(503) : Cooperative.Answer(r);
        var runId = (await client.StartRunAsync(new { task = Goal, provider_id = providerId, ask_me_about = new[] { "company details" }, plan = GivenPlan })).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "We build workflow APIs." }), HttpStatusCode.OK);
        var failed = await client.WaitForStatusAsync(runId, "failed");
        var callsBefore = ModelServer.Requests.Count;

        ModelServer.Responder = Cooperative.Answer;
        var retried = await client.SendAsync(HttpMethod.Post, $"runs/{runId}/retry");
        var done = await client.WaitForStatusAsync(runId, "completed");

        var afterRetry = ModelServer.Requests.Skip(callsBefore).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(failed.Str("error"), Does.Contain("Task T3 failed"));
            Assert.That(ApiAssert.Json(retried, HttpStatusCode.Accepted).Str("status"), Is.AnyOf("queued", "running"));
            Assert.That(retried.Location, Is.EqualTo($"/api/v1/runs/{runId}"));
            Assert.That(afterRetry.Select(r => r.TaskId).OfType<string>(), Is.EqualTo(new[] { "T3" }), "T2 completed before and is not run again");
            Assert.That(afterRetry.Count(r => r.IsSynthesis), Is.EqualTo(1), "the final output is written anew");
            Assert.That(RunGraph.Task(done, "T1").Str("output"), Is.EqualTo("We build workflow APIs."), "the human's answer is kept");
            Assert.That(RunGraph.Task(done, "T2").Str("completed_at"), Is.EqualTo(RunGraph.Task(failed, "T2").Str("completed_at")), "and when it was done");
            Assert.That(done["error"]?.GetValue<string>(), Is.Null);
            Assert.That(done["attempt"]!.GetValue<int>(), Is.EqualTo(1));
            Assert.That(RunGraph.Usage(done).In, Is.GreaterThan(RunGraph.Usage(failed).In), "usage adds up across attempts");
        });
        TestContext.Out.WriteLine($"Model calls: {callsBefore} before the retry (T2, and T3 with its retries), {afterRetry.Count} after it (T3, synthesis); " +
                                  "starting the run again would have called T2 again and asked the person again.");
        var log = await client.EventsAsync(runId);
        Assert.That(log.Count(e => e.Str("type") == "run.retried"), Is.EqualTo(1));
    }

    [Test]
    public async Task Retry_CancelledRunWaitingOnAHuman_WaitsOnItAgainAndCompletesOnTheAnswer()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        ApiAssert.Json(await client.SendAsync(HttpMethod.Delete, $"runs/{runId}"), HttpStatusCode.OK);

        ApiAssert.Json(await client.SendAsync(HttpMethod.Post, $"runs/{runId}/retry"), HttpStatusCode.Accepted);
        var waiting = await client.WaitForRunAsync(runId, r => RunGraph.WaitingOn(r).Contains("T1"));
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "We build workflow APIs." }), HttpStatusCode.OK);
        var done = await client.WaitForStatusAsync(runId, "completed");

        Assert.Multiple(() =>
        {
            Assert.That(waiting.Str("status"), Is.EqualTo("waiting_human"));
            Assert.That(done.Str("final_output"), Does.Contain("We build workflow APIs."));
        });
    }

    [Test]
    public async Task Retry_TwiceAtOnce_StartsOneContinuation()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        ApiAssert.Json(await client.SendAsync(HttpMethod.Delete, $"runs/{runId}"), HttpStatusCode.OK);

        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => client.SendAsync(HttpMethod.Post, $"runs/{runId}/retry")));

        Assert.Multiple(() =>
        {
            Assert.That(answers.Count(a => a.Status == HttpStatusCode.Accepted), Is.EqualTo(1));
            Assert.That(answers.Where(a => a.Status != HttpStatusCode.Accepted).Select(a => a.Code), Is.All.EqualTo("conflict"));
        });
        var run = await client.WaitForRunAsync(runId, r => RunGraph.WaitingOn(r).Contains("T1"));
        Assert.That(run["attempt"]!.GetValue<int>(), Is.EqualTo(1));
    }

    [Test]
    public async Task Retry_RunThatIsNotFailedOrCancelled_Returns409AndAnotherAccounts404()
    {
        using var client = await RegisterAsync();
        using var other = await RegisterAsync();
        var (waiting, _) = await RunScenarios.StartWaitingRunAsync(client);
        var completed = await RunScenarios.StartCompletedRunAsync(client);

        Assert.Multiple(async () =>
        {
            ApiAssert.Problem(await client.SendAsync(HttpMethod.Post, $"runs/{waiting}/retry"), HttpStatusCode.Conflict, "conflict");
            ApiAssert.Problem(await client.SendAsync(HttpMethod.Post, $"runs/{completed}/retry"), HttpStatusCode.Conflict, "conflict");
            ApiAssert.Problem(await other.SendAsync(HttpMethod.Post, $"runs/{waiting}/retry"), HttpStatusCode.NotFound, "not_found");
        });
    }

    static Task<ApiResponse> ReviewAsync(OrchflowClient client, string runId, object body) =>
        client.SendAsync(HttpMethod.Post, $"runs/{runId}/plan/review", body);
}
