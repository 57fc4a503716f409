using System.Text.Json.Nodes;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>Runs brought into a known state through the public API, for the tests that act on them.</summary>
static class RunScenarios
{
    /// <summary>A research step the agents can do at once, and a writing step that needs the human's context.</summary>
    public const string Goal = "Research competitor pricing. Draft a launch plan for our product.";

    public static readonly string[] Unfinished = ["pending", "running", "waiting_human"];

    /// <summary>
    /// Starts a run that asks the human first and waits until it pauses: T1 waits for the human, the research
    /// step is done, and the step that needs T1 is still pending.
    /// </summary>
    public static async Task<(string RunId, JsonNode Run)> StartWaitingRunAsync(OrchflowClient client)
    {
        var started = await client.StartRunAsync(new { task = Goal, ask_me_about = new[] { "company details" } });
        var runId = started.Str("run_id");
        var run = await client.WaitForStatusAsync(runId, "waiting_human");
        var states = ApiAssert.TaskStates(run);
        Assert.Multiple(() =>
        {
            Assert.That(run["subtasks"]!["T1"]!.Str("kind"), Is.EqualTo("human"));
            Assert.That(states.Select(s => s.State), Does.Contain("pending").And.Contain("completed"), run.ToJsonString());
            Assert.That(states, Has.Some.EqualTo(("T1", "waiting_human")), run.ToJsonString());
        });
        return (runId, run);
    }

    /// <summary>Starts a run that needs no human and waits until it has completed.</summary>
    public static async Task<string> StartCompletedRunAsync(OrchflowClient client)
    {
        var runId = (await client.StartRunAsync(new { task = Goal })).Str("run_id");
        await client.WaitForStatusAsync(runId, "completed");
        return runId;
    }

    /// <summary>The first task of the run in the given state and kind.</summary>
    public static string TaskIn(JsonNode run, string state, string kind) =>
        run["subtasks"]!.AsObject()
            .First(t => t.Value!.Str("state") == state && t.Value!.Str("kind") == kind).Key;
}
