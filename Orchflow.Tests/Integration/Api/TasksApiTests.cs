using System.Net;
using System.Text.Json;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>A human completes the task a run waits on, over real HTTP on the standalone Host.</summary>
[TestFixture]
// Beside the other fixtures on the default host, so that they share it (the pool keeps a host for the next fixture only).
[Order(1)]
public sealed class TasksApiTests : HostedTests
{
    [Test]
    public async Task CompleteTask_WaitingHumanTask_Returns200CompletedAndTheRunContinues()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        const string answer = "Company: a workflow API for AI apps. Brand voice: direct, useful, technical.";

        var response = await client.CompleteAsync(runId, "T1", new { output = answer });

        var task = ApiAssert.Json(response, HttpStatusCode.OK);
        Assert.Multiple(() =>
        {
            Assert.That(task.Str("task_id"), Is.EqualTo("T1"));
            Assert.That(task.Str("kind"), Is.EqualTo("human"));
            Assert.That(task.Str("state"), Is.EqualTo("completed"));
            Assert.That(task.Str("output"), Is.EqualTo(answer));
            Assert.That(task["completed_at"]?.GetValue<string>(), Is.Not.Null);
        });
        var done = await client.WaitForStatusAsync(runId, "completed");
        Assert.Multiple(() =>
        {
            Assert.That(done["subtasks"]!["T1"]!.Str("output"), Is.EqualTo(answer));
            Assert.That(ApiAssert.TaskStates(done).Select(t => t.State), Is.All.EqualTo("completed"));
            Assert.That(done.Str("final_output"), Does.Contain(answer));
        });
    }

    [Test]
    public async Task CompleteTask_OutputOf32000Characters_Returns200AndKeepsItWhole()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        // Non-ASCII and longer than one Table Storage property holds: the output must come back byte for byte.
        var answer = string.Concat(Enumerable.Repeat("Brand voice: direct — ünïcödé ✓. ", 1000))[..32_000];

        var response = await client.CompleteAsync(runId, "T1", new { output = answer });

        Assert.That(ApiAssert.Json(response, HttpStatusCode.OK).Str("state"), Is.EqualTo("completed"));
        var run = await client.GetRunAsync(runId);
        Assert.That(run["subtasks"]!["T1"]!.Str("output"), Is.EqualTo(answer));
    }

    [Test]
    public async Task CompleteTask_AlreadyCompleted_Returns409ConflictAndKeepsTheFirstAnswer()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "First answer." }), HttpStatusCode.OK);

        var again = await client.CompleteAsync(runId, "T1", new { output = "Second answer." });

        ApiAssert.Problem(again, HttpStatusCode.Conflict, "conflict");
        var run = await client.GetRunAsync(runId);
        Assert.That(run["subtasks"]!["T1"]!.Str("output"), Is.EqualTo("First answer."));
    }

    [TestCase("pending")]
    [TestCase("completed")]
    public async Task CompleteTask_AgentTaskNotWaiting_Returns409Conflict(string state)
    {
        using var client = await RegisterAsync();
        var (runId, run) = await RunScenarios.StartWaitingRunAsync(client);
        var taskId = RunScenarios.TaskIn(run, state, "agent");

        var response = await client.CompleteAsync(runId, taskId, new { output = "A human's version of this step." });

        var problem = ApiAssert.Problem(response, HttpStatusCode.Conflict, "conflict");
        Assert.That(problem.Str("detail"), Does.Contain(state));
        var after = await client.GetRunAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(ApiAssert.TaskState(after, taskId), Is.EqualTo(state));
            Assert.That(after["subtasks"]![taskId]!["output"]?.GetValue<string>(), Is.Not.EqualTo("A human's version of this step."));
        });
    }

    [TestCase("T99")]
    [TestCase("t1")]
    [TestCase("T0")]
    [TestCase("nonsense")]
    public async Task CompleteTask_UnknownTaskId_Returns404NotFound(string taskId)
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);

        var response = await client.CompleteAsync(runId, taskId, new { output = "An answer." });

        ApiAssert.Problem(response, HttpStatusCode.NotFound, "not_found");
    }

    static TestCaseData Invalid(string scenario, string body, string field) =>
        new TestCaseData(body, field).SetName($"CompleteTask_{scenario}_Returns422NamingField");

    static IEnumerable<TestCaseData> InvalidAnswers()
    {
        // T1 asks the run's topics, so it has a form: an empty answer is told to send its fields (or free text).
        yield return Invalid("MissingAnswer", "{}", "input");
        yield return Invalid("EmptyOutput", """{"output":""}""", "output");
        yield return Invalid("WhitespaceOutput", """{"output":"   "}""", "output");
        yield return Invalid("OutputOver32000Characters", JsonSerializer.Serialize(new { output = new string('x', 32_001) }), "output");
        yield return Invalid("OutputOfWrongType", """{"output":42}""", "output");
        yield return Invalid("NonJsonBody", "output=hello", "body");
    }

    [TestCaseSource(nameof(InvalidAnswers))]
    public async Task CompleteTask_InvalidAnswer_Returns422AndTheTaskKeepsWaiting(string body, string field)
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);

        var response = await client.SendRawAsync(HttpMethod.Post, $"runs/{runId}/tasks/T1/complete", body);

        ApiAssert.Invalid(response, field);
        var run = await client.GetRunAsync(runId);
        Assert.That(ApiAssert.TaskState(run, "T1"), Is.EqualTo("waiting_human"));
    }

    [Test]
    public async Task CompleteTask_TwoConcurrentAnswers_ExactlyOneWins()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        string[] answers = ["Answer from tab A.", "Answer from tab B."];

        var responses = await Task.WhenAll(answers.Select(a => client.CompleteAsync(runId, "T1", new { output = a })));

        Assert.That(responses.Select(r => r.Status), Is.EquivalentTo(new[] { HttpStatusCode.OK, HttpStatusCode.Conflict }),
            string.Join("\n", responses.Select(r => r.Text)));
        var winner = responses.Single(r => r.Status == HttpStatusCode.OK).Json!.Str("output");
        ApiAssert.Problem(responses.Single(r => r.Status == HttpStatusCode.Conflict), HttpStatusCode.Conflict, "conflict");
        var done = await client.WaitForStatusAsync(runId, "completed");
        Assert.Multiple(() =>
        {
            Assert.That(done["subtasks"]!["T1"]!.Str("output"), Is.EqualTo(winner));
            Assert.That(done.Str("final_output"), Does.Contain(winner));
        });
    }

    [Test]
    public async Task CompleteTask_ApproveDraftUnderRequireApproval_Returns200KeepingTheDraft()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = RunScenarios.Goal, require_approval = true })).Str("run_id");
        var waiting = await client.WaitForStatusAsync(runId, "waiting_human");
        var taskId = RunScenarios.TaskIn(waiting, "waiting_human", "agent");
        var draft = waiting["subtasks"]![taskId]!.Str("output");

        var response = await client.CompleteAsync(runId, taskId, new { approved = true });

        var task = ApiAssert.Json(response, HttpStatusCode.OK);
        Assert.Multiple(() =>
        {
            Assert.That(task.Str("state"), Is.EqualTo("completed"));
            Assert.That(task.Str("output"), Is.EqualTo(draft));
        });
    }

    [Test]
    public async Task CompleteTask_RejectDraftWithoutFeedback_Returns422NamingFeedback()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = RunScenarios.Goal, require_approval = true })).Str("run_id");
        var waiting = await client.WaitForStatusAsync(runId, "waiting_human");
        var taskId = RunScenarios.TaskIn(waiting, "waiting_human", "agent");

        var response = await client.CompleteAsync(runId, taskId, new { approved = false });

        ApiAssert.Invalid(response, "feedback");
        Assert.That(ApiAssert.TaskState(await client.GetRunAsync(runId), taskId), Is.EqualTo("waiting_human"));
    }
}
