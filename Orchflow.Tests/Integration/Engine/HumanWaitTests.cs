using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Engine;

/// <summary>
/// Humans reviewing drafts and answering within a deadline, over real HTTP on the standalone host. Model calls take
/// 300 ms, so a rejected draft can be seen being redone; a draft may be sent back once (<see cref="PacedHost"/>).
/// </summary>
[TestFixture]
public sealed class HumanWaitTests : HostedTests
{
    protected override IReadOnlyDictionary<string, string> HostSettings => PacedHost.Settings;

    /// <summary>Two agent tasks, the second building on the first: a research step, then a writing step.</summary>
    static object ApprovalRun => new { task = RunScenarios.Goal, require_approval = true };

    /// <summary>The first agent task in plan order, once its draft waits for review with the run waiting on it alone.</summary>
    static async Task<(string TaskId, string Draft)> FirstDraftAsync(OrchflowClient client, string runId)
    {
        var run = await client.WaitForStatusAsync(runId, "waiting_human");
        var first = RunGraph.OfKind(run, "agent")[0];
        var taskId = RunGraph.Id(first);
        var plan = RunGraph.Describe(run);
        Assert.Multiple(() =>
        {
            Assert.That(RunGraph.State(first), Is.EqualTo("waiting_human"), plan);
            Assert.That(RunGraph.WaitingOn(run), Is.EqualTo(new[] { taskId }), plan);
            Assert.That(first["output"]?.GetValue<string>(), Is.Not.Null.And.Not.Empty, "The draft must be visible while it waits.");
            Assert.That(RunGraph.Descendants(run, taskId).Select(RunGraph.State), Is.Not.Empty.And.All.EqualTo("pending"), plan);
        });
        return (taskId, first.Str("output"));
    }

    static Task<JsonNode> WaitForDraftAsync(OrchflowClient client, string runId, string taskId, Func<string, bool> draft) =>
        client.WaitForRunAsync(runId, r => r.Str("status") == "waiting_human" &&
                                           RunGraph.State(RunGraph.Task(r, taskId)) == "waiting_human" &&
                                           draft(RunGraph.Task(r, taskId).Str("output")));

    /// <summary>
    /// Waits for the run to have failed with no task left open. The projection writes the run row before the task rows,
    /// so a read can briefly see a failed run whose tasks are still pending.
    /// </summary>
    static Task<JsonNode> WaitForFailureAsync(OrchflowClient client, string runId, TimeSpan timeout) =>
        client.WaitForRunAsync(runId, r => r.Str("status") == "failed" &&
                                           RunGraph.Tasks(r).All(t => !RunScenarios.Unfinished.Contains(RunGraph.State(t))), timeout);

    [Test]
    public async Task CompleteTask_RejectOnceThenApproveThenEdit_RedoesTheDraftWithTheFeedbackAndKeepsTheEdit()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(ApprovalRun)).Str("run_id");
        var (taskId, draft) = await FirstDraftAsync(client, runId);
        const string feedback = "Quote each competitor's cheapest monthly price in EUR";

        var rejected = await client.CompleteAsync(runId, taskId, new { approved = false, feedback });

        Assert.That(ApiAssert.Json(rejected, HttpStatusCode.OK).Str("state"), Is.EqualTo("running"));
        Assert.That(RunGraph.State(RunGraph.Task(await client.GetRunAsync(runId), taskId)), Is.EqualTo("running"),
            "The agent redoes the task (300 ms), so the projection shows it running at once.");
        var revisedRun = await WaitForDraftAsync(client, runId, taskId, d => d != draft);
        var revised = RunGraph.Task(revisedRun, taskId).Str("output");
        Assert.Multiple(() =>
        {
            Assert.That(revised, Does.Contain(feedback), "The revision should visibly take the feedback in.");
            Assert.That(RunGraph.WaitingOn(revisedRun), Is.EqualTo(new[] { taskId }));
        });

        var approved = ApiAssert.Json(await client.CompleteAsync(runId, taskId, new { approved = true }), HttpStatusCode.OK);
        Assert.Multiple(() =>
        {
            Assert.That(approved.Str("state"), Is.EqualTo("completed"));
            Assert.That(approved.Str("output"), Is.EqualTo(revised));
        });

        var next = await client.WaitForRunAsync(runId, r => r.Str("status") == "waiting_human" && RunGraph.WaitingOn(r).Any(id => id != taskId));
        var nextId = RunGraph.WaitingOn(next).Single();
        Assert.That(RunGraph.Task(next, nextId).Str("kind"), Is.EqualTo("agent"), RunGraph.Describe(next));
        const string edit = "Edited by a person: launch on 3 March with one paid plan at 19 EUR a month.\n\n- Keep this list item.";
        var edited = ApiAssert.Json(await client.CompleteAsync(runId, nextId, new { output = edit }), HttpStatusCode.OK);
        Assert.Multiple(() =>
        {
            Assert.That(edited.Str("state"), Is.EqualTo("completed"));
            Assert.That(edited.Str("output"), Is.EqualTo(edit));
        });

        var done = await client.WaitForStatusAsync(runId, "completed");
        Assert.Multiple(() =>
        {
            Assert.That(RunGraph.Tasks(done).Select(RunGraph.State), Is.All.EqualTo("completed"), RunGraph.Describe(done));
            Assert.That(RunGraph.Task(done, taskId).Str("output"), Is.EqualTo(revised));
            Assert.That(RunGraph.Task(done, nextId).Str("output"), Is.EqualTo(edit), "An edit is kept verbatim.");
            Assert.That(done["error"], Is.Null);
        });
    }

    [Test]
    public async Task CompleteTask_RejectedMoreThanMaxReviewRounds_FailsTheRunWithAnErrorNamingTheTask()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(ApprovalRun)).Str("run_id");
        var (taskId, draft) = await FirstDraftAsync(client, runId);
        ApiAssert.Json(await client.CompleteAsync(runId, taskId, new { approved = false, feedback = "Add sources." }), HttpStatusCode.OK);
        await WaitForDraftAsync(client, runId, taskId, d => d != draft);

        // One round more than the host allows.
        var again = await client.CompleteAsync(runId, taskId, new { approved = false, feedback = "Still not right." });

        ApiAssert.Json(again, HttpStatusCode.OK);
        var failed = await WaitForFailureAsync(client, runId, TimeSpan.FromSeconds(60));
        var task = RunGraph.Task(failed, taskId);
        Assert.Multiple(() =>
        {
            Assert.That(failed.Str("error"), Does.Contain(taskId));
            Assert.That(RunGraph.State(task), Is.EqualTo("failed"));
            Assert.That(task.Str("error"), Does.Contain(taskId));
            Assert.That(RunGraph.WaitingOn(failed), Is.Empty);
            Assert.That(failed["final_output"], Is.Null);
        });
    }

    [Test]
    public async Task StartRun_HumanTimeoutElapsesUnanswered_FailsTheRunNamingT1AndALateAnswerGets409()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new
        {
            task = RunScenarios.Goal,
            ask_me_about = new[] { "company details" },
            human_timeout_seconds = 2,
        })).Str("run_id");
        await client.WaitForRunAsync(runId, r => RunGraph.Tasks(r) is [var t1, ..] && RunGraph.State(t1) == "waiting_human");

        var failed = await WaitForFailureAsync(client, runId, TimeSpan.FromSeconds(20));

        var lasted = RunGraph.Time(failed, "updated_at") - RunGraph.Time(failed, "created_at");
        Assert.Multiple(() =>
        {
            Assert.That(failed.Str("error"), Does.Contain("T1").And.Contain("timeout").IgnoreCase);
            Assert.That(RunGraph.State(RunGraph.Task(failed, "T1")), Is.EqualTo("failed"));
            Assert.That(failed["final_output"], Is.Null);
            Assert.That(lasted, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(2)),
                "The run failed sooner after it was created than its human timeout: the timer fired early.");
        });

        var late = await client.CompleteAsync(runId, "T1", new { output = "Company: sorry, I was away." });

        ApiAssert.Problem(late, HttpStatusCode.Conflict, "conflict");
        var after = await client.GetRunAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(after.Str("status"), Is.EqualTo("failed"));
            Assert.That(RunGraph.Task(after, "T1")["output"], Is.Null);
        });
    }

    [Test]
    public async Task CompleteTask_AnsweredBeforeTheHumanTimeout_RunOutlivesTheTimeoutAndCompletes()
    {
        const int timeoutSeconds = 2;
        using var client = await RegisterAsync();
        // A long chain after T1 (seven steps of 300 ms, then synthesis) keeps the run going past the timeout it beat.
        var runId = (await client.StartRunAsync(new
        {
            task = "Research 2 competing channels, extract their content patterns, define our positioning, decide the " +
                   "branding direction, design a 30-day content plan, outline the first video, write the trailer script, " +
                   "then produce a launch checklist.",
            ask_me_about = new[] { "brand voice" },
            human_timeout_seconds = timeoutSeconds,
        })).Str("run_id");
        await client.WaitForRunAsync(runId, r => RunGraph.Tasks(r) is [var t1, ..] && RunGraph.State(t1) == "waiting_human");
        const string answer = "Brand voice: plain and exact.";

        var response = await client.CompleteAsync(runId, "T1", new { output = answer });

        Assert.That(ApiAssert.Json(response, HttpStatusCode.OK).Str("state"), Is.EqualTo("completed"));
        var done = await client.WaitForRunAsync(runId, r => r.Str("status") is "completed" or "failed", TimeSpan.FromSeconds(60));
        var answeredAt = RunGraph.Time(RunGraph.Task(done, "T1"), "completed_at");
        var endedAt = RunGraph.Time(done, "updated_at");
        await TestContext.Out.WriteLineAsync($"Run ended {(endedAt - answeredAt).TotalMilliseconds:0} ms after the answer; timeout {timeoutSeconds} s.");
        Assert.Multiple(() =>
        {
            Assert.That(done.Str("status"), Is.EqualTo("completed"), RunGraph.Describe(done));
            Assert.That(done["error"], Is.Null);
            Assert.That(RunGraph.Tasks(done).Select(RunGraph.State), Is.All.EqualTo("completed"));
            Assert.That(done.Str("final_output"), Does.Contain(answer));
            Assert.That(endedAt - answeredAt, Is.GreaterThan(TimeSpan.FromSeconds(timeoutSeconds)),
                "The run must still be going when the timer the answer beat would have fired, or this test proves nothing.");
        });
    }
}
