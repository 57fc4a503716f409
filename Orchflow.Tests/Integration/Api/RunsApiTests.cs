using System.Net;
using System.Text.Json;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>Start, list, read and cancel runs, over real HTTP on the standalone Host.</summary>
[TestFixture]
// Beside the other fixtures on the default host, so that they share it (the pool keeps a host for the next fixture only).
[Order(1)]
public sealed class RunsApiTests : HostedTests
{
    [Test]
    public async Task StartRun_ValidBody_Returns202QueuedWithLocation()
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "runs", new
        {
            task = RunScenarios.Goal,
            agents = new[] { new { name = "research" }, new { name = "writer" } },
            ask_me_about = new[] { "company details" },
            human_gates = new[] { "publish" },
            require_approval = false,
            human_timeout_seconds = 3600,
        });

        var body = ApiAssert.Json(response, HttpStatusCode.Accepted);
        var runId = body.Str("run_id");
        Assert.Multiple(() =>
        {
            Assert.That(runId, Does.Match("^run_[0-9a-z]{20}$"));
            Assert.That(body.Str("status"), Is.EqualTo("queued"));
            Assert.That(body.Str("task"), Is.EqualTo(RunScenarios.Goal));
            Assert.That(DateTimeOffset.Parse(body.Str("created_at")), Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(5)));
            Assert.That(response.Location, Is.EqualTo($"/api/v1/runs/{runId}"));
        });

        // The Location is where the run can be read, by its owner, straight away.
        var read = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, response.Location!["/api/v1/".Length..]), HttpStatusCode.OK);
        Assert.That(read.Str("run_id"), Is.EqualTo(runId));
    }

    [Test]
    public async Task StartRun_TaskOf8000Characters_Returns202()
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "runs", new { task = "Research " + new string('x', 8000 - "Research ".Length) });

        Assert.That(ApiAssert.Json(response, HttpStatusCode.Accepted).Str("task"), Has.Length.EqualTo(8000));
    }

    [Test]
    public async Task StartRun_CustomAgentWithInstructions_Returns202AndKeepsTheAgent()
    {
        using var client = await RegisterAsync();
        const string instructions = "You review drafts for factual claims and list the ones that need a source.";

        var response = await client.SendAsync(HttpMethod.Post, "runs", new
        {
            task = "Research competitor pricing and have the critic check the findings.",
            agents = new object[] { new { name = "research" }, new { name = "critic", instructions } },
        });

        var runId = ApiAssert.Json(response, HttpStatusCode.Accepted).Str("run_id");
        var run = await client.GetRunAsync(runId);
        var critic = run["agents"]!.AsArray().SingleOrDefault(a => a!.Str("name") == "critic");
        Assert.That(critic?["instructions"]?.GetValue<string>(), Is.EqualTo(instructions), run.ToJsonString());
    }

    static TestCaseData Invalid(string scenario, string body, string field) =>
        new TestCaseData(body, field).SetName($"StartRun_{scenario}_Returns422NamingField");

    static IEnumerable<TestCaseData> InvalidStartBodies()
    {
        yield return Invalid("MissingTask", """{"agents":[{"name":"research"}]}""", "task");
        yield return Invalid("EmptyTask", """{"task":""}""", "task");
        yield return Invalid("WhitespaceTask", """{"task":"  \n\t  "}""", "task");
        yield return Invalid("TaskOver8000Characters", JsonSerializer.Serialize(new { task = new string('x', 8001) }), "task");
        yield return Invalid("TaskOfWrongType", """{"task":5}""", "task");
        yield return Invalid("UnknownAgentWithoutInstructions", """{"task":"Research pricing","agents":[{"name":"ghostwriter"}]}""", "agents[0].name");
        yield return Invalid("AgentsNotAnArray", """{"task":"Research pricing","agents":"research"}""", "agents");
        yield return Invalid("AgentWithoutName", """{"task":"Research pricing","agents":[{"instructions":"Do it"}]}""", "agents[0].name");
        yield return Invalid("AgentListedTwice", """{"task":"Research pricing","agents":[{"name":"research"},{"name":"research"}]}""", "agents[1].name");
        yield return Invalid("AskMeAboutEmptyString", """{"task":"Research pricing","ask_me_about":[""]}""", "ask_me_about[0]");
        yield return Invalid("HumanGatesBlankString", """{"task":"Research pricing","human_gates":["  "]}""", "human_gates[0]");
        yield return Invalid("HumanTimeoutZero", """{"task":"Research pricing","human_timeout_seconds":0}""", "human_timeout_seconds");
        yield return Invalid("HumanTimeoutOver30Days", """{"task":"Research pricing","human_timeout_seconds":2592001}""", "human_timeout_seconds");
        yield return Invalid("RequireApprovalOfWrongType", """{"task":"Research pricing","require_approval":"yes"}""", "require_approval");
        yield return Invalid("BlankProviderId", """{"task":"Research pricing","provider_id":"   "}""", "provider_id");
        yield return Invalid("NonJsonBody", "task=Research pricing", "body");
        yield return Invalid("JsonArrayBody", """[{"task":"Research pricing"}]""", "body");
        yield return Invalid("DuplicateTaskKey", """{"task":"Research pricing","task":"Delete everything"}""", "task");
        yield return Invalid("NulInTask", """{"task":"Research\u0000 pricing"}""", "task");
        yield return Invalid("LoneSurrogateInTask", """{"task":"Research \ud800 pricing"}""", "task");
        yield return Invalid("ControlCharacterInAskMeAbout", """{"task":"Research pricing","ask_me_about":["brand\u001bvoice"]}""", "ask_me_about[0]");
        yield return Invalid("DeeplyNested", "{\"task\":\"Research pricing\",\"agents\":" + new string('[', 100) + new string(']', 100) + "}", "agents[0]");
        yield return Invalid("HugeNumber", """{"task":"Research pricing","human_timeout_seconds":1e400}""", "human_timeout_seconds");
        yield return Invalid("MisspeltField", """{"task":"Research pricing","ask_me_abuot":["company details"]}""", "ask_me_abuot");
        yield return Invalid("UnknownAgentField", """{"task":"Research pricing","agents":[{"name":"research","instr":"x"}]}""", "agents[0].instr");
        yield return Invalid("NumberBeyondInt", """{"task":"Research pricing","human_timeout_seconds":99999999999999999999}""", "human_timeout_seconds");
    }

    [TestCase("""{"task":"Research pricing","task":"Delete everything"}""", "given more than once")]
    [TestCase("""{"task":"Research pricing","ask_me_abuot":["company details"]}""", "not a field of this request")]
    [TestCase("""{"task":5}""", "wrong type")]
    public async Task StartRun_MalformedField_SaysWhatIsWrongWithoutNamingInternals(string body, string expected)
    {
        using var client = await RegisterAsync();

        var response = await client.SendRawAsync(HttpMethod.Post, "runs", body);

        Assert.That(response.Json?["detail"]?.GetValue<string>(), Does.Contain(expected).And.Not.Contain("System.").And.Not.Contain("Orchflow."), response.Text);
    }

    [TestCase("text/plain")]
    [TestCase("application/x-www-form-urlencoded")]
    [TestCase("application/jsonp")]
    [TestCase("application/json; charset=iso-8859-1")]
    [TestCase("not a media type")]
    public async Task StartRun_BodyNotDeclaredAsUtf8Json_Returns422NamingBody(string contentType)
    {
        using var client = await RegisterAsync();

        var response = await client.SendRawAsync(HttpMethod.Post, "runs", """{"task":"Research pricing"}""", contentType);

        ApiAssert.Invalid(response, "body");
    }

    [TestCase("application/json; charset=utf-8")]
    [TestCase("application/json;charset=\"UTF-8\"")]
    [TestCase("application/vnd.orchflow+json")]
    public async Task StartRun_JsonMediaTypes_Returns202(string contentType)
    {
        using var client = await RegisterAsync();

        var response = await client.SendRawAsync(HttpMethod.Post, "runs", """{"task":"Research pricing"}""", contentType);

        ApiAssert.Json(response, HttpStatusCode.Accepted);
    }

    [TestCaseSource(nameof(InvalidStartBodies))]
    public async Task StartRun_InvalidBody_Returns422NamingField(string body, string field)
    {
        using var client = await RegisterAsync();

        var response = await client.SendRawAsync(HttpMethod.Post, "runs", body);

        ApiAssert.Invalid(response, field);
        var list = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "runs"), HttpStatusCode.OK);
        Assert.That(list["total"]!.GetValue<int>(), Is.Zero, "A rejected request must not create a run.");
    }

    [TestCase("prv_0000000000000000")]
    [TestCase("prv_doesnotexist")]
    [TestCase("prv/../../runs")]
    [TestCase("prv#1?x=2")]
    public async Task StartRun_UnknownProviderId_Returns404NotFound(string providerId)
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "runs", new { task = RunScenarios.Goal, provider_id = providerId });

        ApiAssert.Problem(response, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task ListRuns_FiveRuns_PagesNewestFirstWithTotal()
    {
        using var client = await RegisterAsync();
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((await client.StartRunAsync(new { task = $"Research market {i}. Draft a summary." })).Str("run_id"));
        }

        var newestFirst = Enumerable.Reverse(created).ToList();
        var pages = new List<List<string>>();
        foreach (var offset in new[] { 0, 2, 4 })
        {
            var page = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, $"runs?limit=2&offset={offset}"), HttpStatusCode.OK);
            Assert.Multiple(() =>
            {
                Assert.That(page["total"]!.GetValue<int>(), Is.EqualTo(5));
                Assert.That(page["limit"]!.GetValue<int>(), Is.EqualTo(2));
                Assert.That(page["offset"]!.GetValue<int>(), Is.EqualTo(offset));
            });
            var runs = page["runs"]!.AsArray();
            Assert.That(runs.Select(r => r!.Str("status")), Is.All.AnyOf("queued", "planning", "running", "waiting_human", "completed"));
            Assert.That(runs.Select(r => r!.Str("task")), Is.All.StartWith("Research market"));
            pages.Add(runs.Select(r => r!.Str("run_id")).ToList());
        }

        Assert.Multiple(() =>
        {
            Assert.That(pages[0], Is.EqualTo(newestFirst.Take(2)));
            Assert.That(pages[1], Is.EqualTo(newestFirst.Skip(2).Take(2)));
            Assert.That(pages[2], Is.EqualTo(newestFirst.Skip(4)));
        });
    }

    [Test]
    public async Task ListRuns_NoQueryAndOffsetPastEnd_UseDefaultsAndReturnEmptyPage()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = RunScenarios.Goal })).Str("run_id");

        var all = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "runs"), HttpStatusCode.OK);
        var past = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "runs?limit=100&offset=1"), HttpStatusCode.OK);

        Assert.Multiple(() =>
        {
            Assert.That(all["limit"]!.GetValue<int>(), Is.EqualTo(20));
            Assert.That(all["offset"]!.GetValue<int>(), Is.Zero);
            Assert.That(all["runs"]!.AsArray().Select(r => r!.Str("run_id")), Is.EqualTo(new[] { runId }));
            Assert.That(past["runs"]!.AsArray(), Is.Empty);
            Assert.That(past["total"]!.GetValue<int>(), Is.EqualTo(1));
        });
    }

    [TestCase("limit=0", "limit")]
    [TestCase("limit=101", "limit")]
    [TestCase("limit=-5", "limit")]
    [TestCase("limit=abc", "limit")]
    [TestCase("limit=2.5", "limit")]
    [TestCase("offset=-1", "offset")]
    [TestCase("offset=ten", "offset")]
    public async Task ListRuns_OutOfRangeQuery_Returns422NamingParameter(string query, string field)
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Get, "runs?" + query);

        ApiAssert.Invalid(response, field);
    }

    [Test]
    public async Task GetRun_WaitingRun_ReturnsRunWithSubtasksAndWaitingOn()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);

        var run = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, $"runs/{runId}"), HttpStatusCode.OK);

        var subtasks = run["subtasks"]!.AsObject();
        var t1 = subtasks["T1"]!;
        Assert.Multiple(() =>
        {
            Assert.That(run.Str("run_id"), Is.EqualTo(runId));
            Assert.That(run.Str("status"), Is.EqualTo("waiting_human"));
            Assert.That(run.Str("task"), Is.EqualTo(RunScenarios.Goal));
            Assert.That(run["waiting_on"]!.AsArray().Select(n => n!.GetValue<string>()), Is.EqualTo(new[] { "T1" }));
            Assert.That(run["final_output"], Is.Null);
            Assert.That(run["error"], Is.Null);
            Assert.That(run["usage"]!["input_tokens"]!.GetValue<long>(), Is.GreaterThanOrEqualTo(0));
            Assert.That(run["usage"]!["output_tokens"]!.GetValue<long>(), Is.GreaterThan(0));
            Assert.That(DateTimeOffset.Parse(run.Str("updated_at")), Is.GreaterThanOrEqualTo(DateTimeOffset.Parse(run.Str("created_at"))));
            Assert.That(subtasks.Select(t => t.Key), Is.EqualTo(subtasks.Select(t => t.Value!.Str("task_id"))));
            Assert.That(t1.Str("state"), Is.EqualTo("waiting_human"));
            Assert.That(t1["agent"], Is.Null);
            Assert.That(t1["output"], Is.Null);
            Assert.That(t1.Str("prompt"), Does.Contain("company details"));
            Assert.That(t1["depends_on"]!.AsArray(), Is.Empty);
            Assert.That(subtasks.Where(t => t.Value!.Str("kind") == "agent").Select(t => t.Value!.Str("agent")),
                Is.All.AnyOf("research", "analyst", "writer"));
        });
    }

    [Test]
    public async Task GetRunTasks_WaitingRun_ReturnsTasksOrderedT1T2()
    {
        using var client = await RegisterAsync();
        var (runId, run) = await RunScenarios.StartWaitingRunAsync(client);

        var response = await client.SendAsync(HttpMethod.Get, $"runs/{runId}/tasks");

        var body = ApiAssert.Json(response, HttpStatusCode.OK);
        var ids = body["tasks"]!.AsArray().Select(t => t!.Str("task_id")).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(body.Str("run_id"), Is.EqualTo(runId));
            Assert.That(ids, Has.Count.GreaterThanOrEqualTo(3));
            Assert.That(ids, Is.EqualTo(Enumerable.Range(1, ids.Count).Select(i => $"T{i}")));
            Assert.That(ids, Is.EqualTo(run["subtasks"]!.AsObject().Select(t => t.Key)));
            Assert.That(body["tasks"]![0]!.Str("state"), Is.EqualTo("waiting_human"));
        });
    }

    static IEnumerable<TestCaseData> RunRoutes(string runId)
    {
        yield return new TestCaseData("GET", $"runs/{runId}", null);
        yield return new TestCaseData("GET", $"runs/{runId}/tasks", null);
        yield return new TestCaseData("DELETE", $"runs/{runId}", null);
        yield return new TestCaseData("POST", $"runs/{runId}/tasks/T1/complete", """{"output":"an answer"}""");
    }

    static IEnumerable<TestCaseData> UnknownRunRoutes() =>
        new[] { "run_00000000000000000000", "run_zzzzzzzzzzzzzzzzzzzz", "not-a-run", "RUN_ABC", "run_" + new string('a', 80) }
            .SelectMany(RunRoutes);

    [TestCaseSource(nameof(UnknownRunRoutes))]
    public async Task RunRoute_UnknownOrMalformedRunId_Returns404NotFound(string method, string path, string? body)
    {
        using var client = await RegisterAsync();

        var response = await client.SendRawAsync(new HttpMethod(method), path, body);

        ApiAssert.Problem(response, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task RunRoutes_AnotherAccountsRun_Return404AndLeaveTheRunAlone()
    {
        using var owner = await RegisterAsync();
        using var stranger = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(owner);

        var get = await stranger.SendAsync(HttpMethod.Get, $"runs/{runId}");
        var tasks = await stranger.SendAsync(HttpMethod.Get, $"runs/{runId}/tasks");
        var cancel = await stranger.SendAsync(HttpMethod.Delete, $"runs/{runId}");
        var complete = await stranger.CompleteAsync(runId, "T1", new { output = "an answer from someone else" });
        var list = ApiAssert.Json(await stranger.SendAsync(HttpMethod.Get, "runs"), HttpStatusCode.OK);

        ApiAssert.Problem(get, HttpStatusCode.NotFound, "not_found");
        ApiAssert.Problem(tasks, HttpStatusCode.NotFound, "not_found");
        ApiAssert.Problem(cancel, HttpStatusCode.NotFound, "not_found");
        ApiAssert.Problem(complete, HttpStatusCode.NotFound, "not_found");
        var run = await owner.GetRunAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(list["total"]!.GetValue<int>(), Is.Zero);
            Assert.That(run.Str("status"), Is.EqualTo("waiting_human"));
            Assert.That(ApiAssert.TaskState(run, "T1"), Is.EqualTo("waiting_human"));
            Assert.That(run["subtasks"]!["T1"]!["output"], Is.Null);
        });
    }

    [Test]
    public async Task CancelRun_WaitingRun_Returns200AndCancelsEveryUnfinishedTask()
    {
        using var client = await RegisterAsync();
        var (runId, before) = await RunScenarios.StartWaitingRunAsync(client);
        var completedBefore = ApiAssert.TaskStates(before).Where(t => t.State == "completed").Select(t => t.TaskId).ToList();

        var response = await client.SendAsync(HttpMethod.Delete, $"runs/{runId}");

        var cancelled = ApiAssert.Json(response, HttpStatusCode.OK);
        Assert.That(cancelled.Str("status"), Is.EqualTo("cancelled"));
        var run = await client.GetRunAsync(runId);
        var states = ApiAssert.TaskStates(run);
        Assert.Multiple(() =>
        {
            Assert.That(run.Str("status"), Is.EqualTo("cancelled"));
            Assert.That(states.Select(t => t.State), Has.None.AnyOf(RunScenarios.Unfinished), run.ToJsonString());
            Assert.That(states.Where(t => !completedBefore.Contains(t.TaskId)).Select(t => t.State), Is.All.EqualTo("cancelled"));
            Assert.That(states.Where(t => completedBefore.Contains(t.TaskId)).Select(t => t.State), Is.All.EqualTo("completed"));
            Assert.That(ApiAssert.TaskState(cancelled, "T1"), Is.EqualTo("cancelled"));
        });
    }

    [Test]
    public async Task CancelRun_AlreadyCancelled_Returns200Again()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        ApiAssert.Json(await client.SendAsync(HttpMethod.Delete, $"runs/{runId}"), HttpStatusCode.OK);

        var again = await client.SendAsync(HttpMethod.Delete, $"runs/{runId}");

        var body = ApiAssert.Json(again, HttpStatusCode.OK);
        Assert.Multiple(() =>
        {
            Assert.That(body.Str("status"), Is.EqualTo("cancelled"));
            Assert.That(ApiAssert.TaskStates(body).Select(t => t.State), Has.None.AnyOf(RunScenarios.Unfinished));
        });
    }

    [Test]
    public async Task CancelRun_CompletedRun_Returns409ConflictAndStaysCompleted()
    {
        using var client = await RegisterAsync();
        var runId = await RunScenarios.StartCompletedRunAsync(client);

        var response = await client.SendAsync(HttpMethod.Delete, $"runs/{runId}");

        var problem = ApiAssert.Problem(response, HttpStatusCode.Conflict, "conflict");
        Assert.That(problem.Str("detail"), Does.Contain("completed"));
        var run = await client.GetRunAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(run.Str("status"), Is.EqualTo("completed"));
            Assert.That(run.Str("final_output"), Is.Not.Empty);
            Assert.That(ApiAssert.TaskStates(run).Select(t => t.State), Is.All.EqualTo("completed"));
        });
    }

    [Test]
    public async Task CompleteTask_AfterCancel_Returns409Conflict()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        ApiAssert.Json(await client.SendAsync(HttpMethod.Delete, $"runs/{runId}"), HttpStatusCode.OK);

        var response = await client.CompleteAsync(runId, "T1", new { output = "Too late." });

        ApiAssert.Problem(response, HttpStatusCode.Conflict, "conflict");
        var run = await client.GetRunAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(run.Str("status"), Is.EqualTo("cancelled"));
            Assert.That(ApiAssert.TaskState(run, "T1"), Is.EqualTo("cancelled"));
            Assert.That(run["subtasks"]!["T1"]!["output"], Is.Null);
        });
    }
}
