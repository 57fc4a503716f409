using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// Runs caught in the middle: the simulated model takes 1.5 s per call on this host, so a run can be seen while it
/// plans and while its agents run.
/// </summary>
[TestFixture]
public sealed class SlowModelApiTests : HostedTests
{
    const int LatencyMs = 1500;

    protected override IReadOnlyDictionary<string, string> HostSettings =>
        new Dictionary<string, string> { ["Orchflow__Simulated__LatencyMs"] = LatencyMs.ToString() };

    static bool AnyRunning(JsonNode run) => ApiAssert.TaskStates(run).Any(t => t.State == "running");

    /// <summary>
    /// Waits until the host has nothing left to do, so an agent or planner that was mid-call when the cancel landed has
    /// finished and written what it would write, then reads the run: it must still be cancelled with no task open.
    /// </summary>
    async Task<JsonNode> StaysCancelledAsync(OrchflowClient client, string runId)
    {
        await TestHosts.WaitUntilAtRestAsync(Host);
        var run = await client.GetRunAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(run.Str("status"), Is.EqualTo("cancelled"), run.ToJsonString());
            Assert.That(ApiAssert.TaskStates(run).Select(t => t.State), Has.None.AnyOf(RunScenarios.Unfinished), run.ToJsonString());
        });
        return run;
    }

    [Test]
    public async Task StartRun_SlowModel_ReturnsQueuedBeforeAnyPlanning()
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "runs", new { task = RunScenarios.Goal });

        var started = ApiAssert.Json(response, HttpStatusCode.Accepted);
        var run = await client.GetRunAsync(started.Str("run_id"));
        Assert.Multiple(() =>
        {
            Assert.That(started.Str("status"), Is.EqualTo("queued"));
            Assert.That(started["subtasks"]!.AsObject(), Is.Empty);
            Assert.That(run.Str("status"), Is.AnyOf("queued", "planning"));
            Assert.That(run["subtasks"]!.AsObject(), Is.Empty);
        });
    }

    [Test]
    public async Task CancelRun_WhileAgentsRunning_EndsCancelledWithNoTaskLeftOpen()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = RunScenarios.Goal })).Str("run_id");
        var running = await client.WaitForRunAsync(runId, AnyRunning);
        var wasRunning = ApiAssert.TaskStates(running).Where(t => t.State == "running").Select(t => t.TaskId).ToList();
        var wasPending = ApiAssert.TaskStates(running).Where(t => t.State == "pending").Select(t => t.TaskId).ToList();

        var response = await client.SendAsync(HttpMethod.Delete, $"runs/{runId}");

        var cancelled = ApiAssert.Json(response, HttpStatusCode.OK);
        Assert.Multiple(() =>
        {
            Assert.That(cancelled.Str("status"), Is.EqualTo("cancelled"));
            Assert.That(ApiAssert.TaskStates(cancelled).Select(t => t.State), Has.None.AnyOf(RunScenarios.Unfinished));
        });
        var after = await StaysCancelledAsync(client, runId);
        Assert.Multiple(() =>
        {
            foreach (var taskId in wasRunning)
            {
                Assert.That(ApiAssert.TaskState(after, taskId), Is.EqualTo("cancelled"), after.ToJsonString());
                Assert.That(after["subtasks"]![taskId]!["output"], Is.Null, "A cancelled agent's late output must be dropped.");
            }

            foreach (var taskId in wasPending)
            {
                Assert.That(ApiAssert.TaskState(after, taskId), Is.EqualTo("cancelled"));
                Assert.That(after["subtasks"]![taskId]!["started_at"], Is.Null, "No task may start after the cancel.");
            }

            Assert.That(after["final_output"], Is.Null);
        });
    }

    [Test]
    public async Task CancelRun_WhilePlanning_EndsCancelledWithNoTaskLeftOpen()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = RunScenarios.Goal })).Str("run_id");
        await client.WaitForStatusAsync(runId, "planning");

        var response = await client.SendAsync(HttpMethod.Delete, $"runs/{runId}");

        Assert.That(ApiAssert.Json(response, HttpStatusCode.OK).Str("status"), Is.EqualTo("cancelled"));
        // The planner is mid-call when the cancel lands; the plan it saves afterwards must not reopen the run.
        var after = await StaysCancelledAsync(client, runId);
        Assert.That(after["final_output"], Is.Null);
    }

    [Test]
    public async Task CompleteTask_RunningAgentTask_Returns409ConflictAndTheAgentFinishesItsOwnWork()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = RunScenarios.Goal, ask_me_about = new[] { "company details" } })).Str("run_id");
        var running = await client.WaitForRunAsync(runId, AnyRunning);
        var taskId = RunScenarios.TaskIn(running, "running", "agent");
        const string human = "A human trying to finish the agent's work.";

        var response = await client.CompleteAsync(runId, taskId, new { output = human });

        var problem = ApiAssert.Problem(response, HttpStatusCode.Conflict, "conflict");
        Assert.That(problem.Str("detail"), Does.Contain("running"));
        var waiting = await client.WaitForStatusAsync(runId, "waiting_human");
        Assert.Multiple(() =>
        {
            Assert.That(ApiAssert.TaskState(waiting, taskId), Is.EqualTo("completed"));
            Assert.That(waiting["subtasks"]![taskId]!.Str("output"), Is.Not.Empty.And.Not.EqualTo(human));
        });
    }
}
