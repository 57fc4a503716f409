using System.Net;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// What managed (trial) runs may spend, over real HTTP: each attempt of one is budgeted at most the trial's tokens, a
/// person cannot raise it past them, and a retry takes a trial run of its own, as a new run does.
/// </summary>
[TestFixture]
public sealed class TrialAllowanceTests : HostedTests
{
    const int TrialTokens = 1_000;
    const string Goal = "Research competitor pricing. Draft a launch plan for our product.";

    protected override IReadOnlyDictionary<string, string> HostSettings { get; } = new Dictionary<string, string>
    {
        ["Orchflow__TrialRuns"] = "2",
        ["Orchflow__Accounts__TrialTokens"] = TrialTokens.ToString(),
    };

    [Test]
    public async Task StartRun_ManagedWithNoBudget_IsBudgetedTheTrialsTokensAndStopsThere()
    {
        using var client = await RegisterAsync();

        var started = await client.StartRunAsync(new { task = Goal });
        var waiting = await client.WaitForRunAsync(started.Str("run_id"), r => RunGraph.WaitingOn(r).Contains("budget"));

        Assert.Multiple(() =>
        {
            Assert.That(started["budget"]!["max_tokens"]!.GetValue<long>(), Is.EqualTo(TrialTokens), "the 202 shows it");
            Assert.That(waiting["budget"]!["max_tokens"]!.GetValue<long>(), Is.EqualTo(TrialTokens));
            Assert.That(waiting.Str("status"), Is.EqualTo("waiting_human"), "the run stops at the trial's tokens instead of spending on");
        });
    }

    [Test]
    public async Task StartRun_ManagedWithASmallerBudget_KeepsIt()
    {
        using var client = await RegisterAsync();

        var runId = (await client.StartRunAsync(new { task = Goal, budget = new { max_tokens = 10 } })).Str("run_id");
        var run = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, $"runs/{runId}"), HttpStatusCode.OK);

        Assert.That(run["budget"]!["max_tokens"]!.GetValue<long>(), Is.EqualTo(10));
    }

    [Test]
    public async Task RaiseBudget_ManagedRunPastItsTrial_Returns422AndChangesNothing()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = Goal, budget = new { max_tokens = 1 } })).Str("run_id");
        await client.WaitForRunAsync(runId, r => RunGraph.WaitingOn(r).Contains("budget"));

        var past = await client.SendAsync(HttpMethod.Post, $"runs/{runId}/budget", new { max_tokens = TrialTokens + 1 });
        var run = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, $"runs/{runId}"), HttpStatusCode.OK);
        var upTo = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, $"runs/{runId}/budget", new { max_tokens = TrialTokens }), HttpStatusCode.OK);

        var problem = ApiAssert.Invalid(past, "max_tokens");
        Assert.Multiple(() =>
        {
            Assert.That(problem, Does.Contain("provider"), "the answer says how to spend more");
            Assert.That(run["budget"]!["max_tokens"]!.GetValue<long>(), Is.EqualTo(1), "nothing refused was stored");
            Assert.That(upTo["budget"]!["max_tokens"]!.GetValue<long>(), Is.EqualTo(TrialTokens), "up to the trial is allowed");
        });
    }

    [Test]
    public async Task Retry_ManagedRun_TakesATrialRunAndBringsItsTokens_UntilNoneIsLeft()
    {
        using var client = await RegisterAsync();
        // Each attempt waits for its plan to be reviewed, so it is still unfinished when it is cancelled.
        var runId = (await client.StartRunAsync(new { task = Goal, require_plan_approval = true })).Str("run_id");
        ApiAssert.Json(await client.SendAsync(HttpMethod.Delete, $"runs/{runId}"), HttpStatusCode.OK);

        var retried = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, $"runs/{runId}/retry"), HttpStatusCode.Accepted);
        var account = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "account"), HttpStatusCode.OK);
        await client.WaitForRunAsync(runId, r => r.Str("status") == "waiting_human");
        ApiAssert.Json(await client.SendAsync(HttpMethod.Delete, $"runs/{runId}"), HttpStatusCode.OK);
        var refused = await client.SendAsync(HttpMethod.Post, $"runs/{runId}/retry");
        var after = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, $"runs/{runId}"), HttpStatusCode.OK);

        Assert.Multiple(() =>
        {
            Assert.That(retried["budget"]!["max_tokens"]!.GetValue<long>(), Is.EqualTo(2 * TrialTokens), "the retry's own trial tokens");
            Assert.That(account["trial_runs_remaining"]!.GetValue<int>(), Is.Zero, "the run and its retry took one trial run each");
            Assert.That(after.Str("status"), Is.EqualTo("cancelled"), "a refused retry changes nothing");
        });
        ApiAssert.Problem(refused, HttpStatusCode.PaymentRequired, "trial_exhausted");
    }

    [Test]
    public async Task Retry_RunThatCannotBeRetried_GivesItsTrialRunBack()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = Goal, budget = new { max_tokens = 1 } })).Str("run_id");
        await client.WaitForRunAsync(runId, r => RunGraph.WaitingOn(r).Contains("budget"));

        var refused = await client.SendAsync(HttpMethod.Post, $"runs/{runId}/retry");
        var account = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "account"), HttpStatusCode.OK);

        ApiAssert.Problem(refused, HttpStatusCode.Conflict, "conflict");
        Assert.That(account["trial_runs_remaining"]!.GetValue<int>(), Is.EqualTo(1), "only the run itself took one");
    }
}
