using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// Budgets over real HTTP on the standalone host with the simulated model: a run that spends its budget stops before
/// the call it has no budget for and waits on a person, who raises it; and every way a budget can be asked for wrongly.
/// </summary>
[TestFixture]
public sealed class BudgetApiTests : HostedTests
{
    const string Goal = "Research competitor pricing. Draft a launch plan for our product.";

    [Test]
    public async Task Run_BudgetSpentByThePlan_WaitsOnItsBudgetAndARaiseLetsItComplete()
    {
        using var client = await RegisterAsync();

        var runId = (await client.StartRunAsync(new { task = Goal, budget = new { max_tokens = 1 } })).Str("run_id");
        var waiting = await client.WaitForRunAsync(runId, r => r.Str("status") == "waiting_human");
        var raised = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, $"runs/{runId}/budget", new { max_tokens = 100_000 }), HttpStatusCode.OK);
        var done = await client.WaitForStatusAsync(runId, "completed");
        var types = (await client.EventsAsync(runId)).Select(e => e.Str("type")).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(RunGraph.WaitingOn(waiting), Is.EqualTo(new[] { "budget" }));
            Assert.That(waiting["budget"]!["max_tokens"]!.GetValue<long>(), Is.EqualTo(1));
            Assert.That(waiting["budget"]!["max_tool_calls"], Is.Null);
            Assert.That(RunGraph.Tasks(waiting).Select(t => t.Str("state")), Is.All.EqualTo("pending"), "no task ran past the spent budget");
            Assert.That(waiting["usage"]!["output_tokens"]!.GetValue<long>(), Is.GreaterThan(0), "the plan was the one call made");
            Assert.That(raised["budget"]!["max_tokens"]!.GetValue<long>(), Is.EqualTo(100_000));
            Assert.That(RunGraph.WaitingOn(raised), Does.Not.Contain("budget"));
            Assert.That(done["final_output"]!.GetValue<string>(), Is.Not.Empty);
            Assert.That(types.Count(t => t == "run.budget_reached"), Is.EqualTo(1), "announced once, however many tasks it stopped");
            Assert.That(types, Does.Contain("task.paused").And.Contain("run.budget_raised"));
            Assert.That(types.IndexOf("run.budget_raised"), Is.GreaterThan(types.IndexOf("run.budget_reached")));
        });
    }

    [Test]
    public async Task RaiseBudget_StillBelowWhatTheRunUsed_KeepsItWaitingUntilEnough()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = Goal, budget = new { max_tokens = 1 } })).Str("run_id");
        await client.WaitForRunAsync(runId, r => RunGraph.WaitingOn(r).Contains("budget"));

        var short1 = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, $"runs/{runId}/budget", new { max_tokens = 2 }), HttpStatusCode.OK);
        var enough = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, $"runs/{runId}/budget", new { max_tokens = 100_000 }), HttpStatusCode.OK);
        await client.WaitForStatusAsync(runId, "completed");
        var raises = (await client.EventsAsync(runId)).Where(e => e.Str("type") == "run.budget_raised").Select(e => e["data"]!["waiting"]!.GetValue<bool>());

        Assert.Multiple(() =>
        {
            Assert.That(short1.Str("status"), Is.EqualTo("waiting_human"));
            Assert.That(RunGraph.WaitingOn(short1), Is.EqualTo(new[] { "budget" }));
            Assert.That(RunGraph.WaitingOn(enough), Does.Not.Contain("budget"));
            Assert.That(raises, Is.EqualTo(new[] { true, false }));
        });
    }

    [Test]
    public async Task Cancel_RunWaitingOnItsBudget_CancelsItAndARaiseIsThenRefused()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = Goal, budget = new { max_tokens = 1 } })).Str("run_id");
        await client.WaitForRunAsync(runId, r => RunGraph.WaitingOn(r).Contains("budget"));

        var cancelled = ApiAssert.Json(await client.SendAsync(HttpMethod.Delete, $"runs/{runId}"), HttpStatusCode.OK);
        var raise = await client.SendAsync(HttpMethod.Post, $"runs/{runId}/budget", new { max_tokens = 100_000 });

        Assert.Multiple(() =>
        {
            Assert.That(cancelled.Str("status"), Is.EqualTo("cancelled"));
            Assert.That(RunGraph.WaitingOn(cancelled), Is.Empty);
        });
        ApiAssert.Problem(raise, HttpStatusCode.Conflict, "conflict");
    }

    static IEnumerable<TestCaseData> BadStartBudgets()
    {
        yield return new TestCaseData(new JsonObject(), "budget").SetName("StartRun_EmptyBudget_Returns422NamingBudget");
        yield return new TestCaseData(new JsonObject { ["max_tokens"] = 0 }, "budget.max_tokens").SetName("StartRun_ZeroTokens_Returns422NamingIt");
        yield return new TestCaseData(new JsonObject { ["max_tokens"] = -5 }, "budget.max_tokens").SetName("StartRun_NegativeTokens_Returns422NamingIt");
        yield return new TestCaseData(new JsonObject { ["max_tokens"] = 1_000_000_001 }, "budget.max_tokens").SetName("StartRun_TokensPastTheBound_Returns422NamingIt");
        yield return new TestCaseData(new JsonObject { ["max_tool_calls"] = 10_001 }, "budget.max_tool_calls").SetName("StartRun_ToolCallsPastTheBound_Returns422NamingIt");
    }

    [TestCaseSource(nameof(BadStartBudgets))]
    public async Task StartRun_BadBudget_Returns422AndStartsNothing(JsonObject budget, string field)
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "runs", new JsonObject { ["task"] = Goal, ["budget"] = budget });
        var runs = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "runs"), HttpStatusCode.OK)["runs"]!.AsArray();

        ApiAssert.Invalid(response, field);
        Assert.That(runs, Is.Empty);
    }

    [Test]
    public async Task StartRun_BudgetOfTheWrongType_Returns422()
    {
        using var client = await RegisterAsync();

        var response = await client.SendRawAsync(HttpMethod.Post, "runs", $$$"""{"task": "{{{Goal}}}", "budget": {"max_tokens": "lots"}}""");

        ApiAssert.Problem(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
    }

    [Test]
    public async Task RaiseBudget_BadRequests_AreRefusedClearlyAndChangeNothing()
    {
        using var client = await RegisterAsync();
        using var other = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = Goal, budget = new { max_tokens = 1, max_tool_calls = 5 } })).Str("run_id");
        await client.WaitForRunAsync(runId, r => RunGraph.WaitingOn(r).Contains("budget"));

        ApiAssert.Invalid(await client.SendAsync(HttpMethod.Post, $"runs/{runId}/budget", new { }), "max_tokens");
        ApiAssert.Invalid(await client.SendAsync(HttpMethod.Post, $"runs/{runId}/budget", new { max_tokens = 0 }), "max_tokens");
        var lower = ApiAssert.Invalid(await client.SendAsync(HttpMethod.Post, $"runs/{runId}/budget", new { max_tokens = 100_000, max_tool_calls = 4 }), "max_tool_calls");
        ApiAssert.Problem(await other.SendAsync(HttpMethod.Post, $"runs/{runId}/budget", new { max_tokens = 100_000 }), HttpStatusCode.NotFound, "not_found");
        ApiAssert.Problem(await client.SendAsync(HttpMethod.Post, "runs/run_0000000000000000000a/budget", new { max_tokens = 10 }), HttpStatusCode.NotFound, "not_found");
        ApiAssert.Problem(await client.SendAsync(HttpMethod.Post, "runs/nonsense/budget", new { max_tokens = 10 }), HttpStatusCode.NotFound, "not_found");
        Assert.That((await Anonymous.SendAsync(HttpMethod.Post, $"runs/{runId}/budget", new { max_tokens = 10 })).Status, Is.EqualTo(HttpStatusCode.Unauthorized));
        var run = await client.GetRunAsync(runId);

        Assert.Multiple(() =>
        {
            Assert.That(lower, Does.Contain("only be raised").And.Contain("5"));
            Assert.That(run["budget"]!["max_tokens"]!.GetValue<long>(), Is.EqualTo(1), "nothing refused was stored");
            Assert.That(run["budget"]!["max_tool_calls"]!.GetValue<int>(), Is.EqualTo(5));
            Assert.That(RunGraph.WaitingOn(run), Is.EqualTo(new[] { "budget" }));
        });
    }
}
