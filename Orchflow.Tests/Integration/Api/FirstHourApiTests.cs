using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Tests.Models;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// What a new user meets in the first hour, on a host with the production trial allowance: the account's own route,
/// the trial running out, every wrong-typed field of a body at once, planning notes, and a gated approval that shows
/// what it approves.
/// </summary>
[TestFixture]
public sealed class FirstHourApiTests : HostedTests
{
    [Test]
    public async Task Register_LocationHeader_NamesARouteThatAnswersWithTheAccount()
    {
        using var anonymous = new OrchflowClient(Host.BaseAddress);
        var email = $"{Guid.NewGuid():N}@example.com";
        var registered = await anonymous.SendAsync(HttpMethod.Post, "auth/register", new { name = "First hour", email });
        var created = ApiAssert.Json(registered, HttpStatusCode.Created);
        using var client = new OrchflowClient(Host.BaseAddress, created.Str("api_key"));

        var account = await client.SendAsync(HttpMethod.Get, registered.Location!["/api/v1/".Length..]);

        var body = ApiAssert.Json(account, HttpStatusCode.OK);
        Assert.Multiple(() =>
        {
            Assert.That(registered.Location, Is.EqualTo("/api/v1/account"));
            Assert.That(body.Str("account_id"), Is.EqualTo(created.Str("account_id")));
            Assert.That(body.Str("email"), Is.EqualTo(email));
            Assert.That(body["trial_runs_remaining"]!.GetValue<int>(), Is.EqualTo(5), "the production default");
            Assert.That(body["api_key"], Is.Null, "the key is shown once, at registration");
            Assert.That(account.Header("Cache-Control"), Is.EqualTo("no-store"));
        });
    }

    [Test]
    public async Task StartRun_SixthWithTheProductionDefault_Returns402NamingTheConsolesProviderScreenAndTheRoute()
    {
        using var client = await RegisterAsync();
        for (var i = 0; i < 5; i++)
        {
            await client.StartRunAsync(new { task = $"Research market {i}, then draft a summary." });
        }

        var left = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "account"), HttpStatusCode.OK);
        var sixth = await client.SendAsync(HttpMethod.Post, "runs", new { task = "Research market 6, then draft a summary." });

        var problem = ApiAssert.Problem(sixth, HttpStatusCode.PaymentRequired, "trial_exhausted");
        Assert.Multiple(() =>
        {
            Assert.That(left["trial_runs_remaining"]!.GetValue<int>(), Is.Zero, "read anew, not from the key's cached account");
            Assert.That(problem.Str("detail"), Does.Contain("/console#/providers").And.Contain("POST /api/v1/providers").And.Contain("provider_id"));
        });
    }

    [Test]
    public async Task StartRun_FourWrongTypedFields_Returns422ListingEveryOne()
    {
        using var client = await RegisterAsync();

        var response = await client.SendRawAsync(HttpMethod.Post, "runs",
            """{"task": 5, "ask_me_about": "brand voice", "require_approval": "yes", "human_timeout_seconds": "ten"}""");

        var problem = ApiAssert.Problem(response, (HttpStatusCode)422, "validation_failed");
        var errors = problem["errors"]!.AsObject().Select(e => e.Key).ToList();
        Assert.That(errors, Is.EquivalentTo(new[] { "task", "ask_me_about", "require_approval", "human_timeout_seconds" }), response.Text);
    }

    [Test]
    public async Task StartRun_WrongTypeInsideAList_NamesItsPathBesideTheOtherErrors()
    {
        using var client = await RegisterAsync();

        var response = await client.SendRawAsync(HttpMethod.Post, "runs", """{"task": "Draft a note.", "agents": [{"name": 7}], "ask_me_abuot": []}""");

        var problem = ApiAssert.Problem(response, (HttpStatusCode)422, "validation_failed");
        Assert.That(problem["errors"]!.AsObject().Select(e => e.Key), Is.EquivalentTo(new[] { "agents[0].name", "ask_me_abuot" }), response.Text);
    }

    [Test]
    public async Task GetRun_PlannedRun_HasAPlanningNoteSayingWhatThePlanIs()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = SimulatedRuns.YouTubeGoal, ask_me_about = new[] { "brand voice" } })).Str("run_id");

        var run = await client.WaitForRunAsync(runId, r => r["events"]!.AsArray().Count > 0);

        var note = run["events"]!.AsArray().Single()!;
        Assert.Multiple(() =>
        {
            Assert.That(note.Str("kind"), Is.EqualTo("planned"));
            Assert.That(note.Str("message"), Does.Contain("11 tasks").And.Contain("T1").And.Contain("At most 5 run at once"));
        });
    }

    [Test]
    public async Task GetRun_GatedFinalApproval_ShowsTheOutputItDependsOn()
    {
        using var client = await RegisterAsync();
        var example = SimulatedRuns.Find("Content");
        var runId = (await client.StartRunAsync(new { task = example.Goal, ask_me_about = example.AskMeAbout, human_gates = example.HumanGates })).Str("run_id");
        await client.WaitForRunAsync(runId, r => r.Str("status") == "waiting_human");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "Brand voice: plain and warm." }), HttpStatusCode.OK);

        var run = await client.WaitForRunAsync(runId, r => r["waiting_on"]!.AsArray().Any(t => t!.GetValue<string>() != "T1"));

        var approval = Approval(run);
        var inputs = approval["inputs"]!.AsArray();
        var tasks = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, $"runs/{runId}/tasks"), HttpStatusCode.OK)["tasks"]!.AsArray();
        Assert.Multiple(() =>
        {
            Assert.That(approval.Str("state"), Is.EqualTo("waiting_human"));
            Assert.That(inputs.Select(i => i!.Str("task_id")), Is.EqualTo(approval["depends_on"]!.AsArray().Select(d => d!.GetValue<string>())));
            Assert.That(inputs.Last()!.Str("output"), Is.EqualTo(run["subtasks"]![inputs.Last()!.Str("task_id")]!.Str("output")), "the output as the run holds it");
            Assert.That(inputs.Last()!.Str("name"), Does.StartWith("Edit"), "the edited post is what is approved");
            Assert.That(tasks.Single(t => t!.Str("task_id") == approval.Str("task_id"))!["inputs"]!.AsArray(), Has.Count.EqualTo(inputs.Count));
            Assert.That(run["subtasks"]!.AsObject().Where(t => t.Value!.Str("kind") == "agent").Select(t => t.Value!["inputs"]!.AsArray().Count),
                Is.All.Zero, "agent tasks carry no inputs");
        });
    }

    static JsonNode Approval(JsonNode run) =>
        run["subtasks"]!.AsObject().Select(t => t.Value!).Single(t => t.Str("name").Contains("final approval", StringComparison.OrdinalIgnoreCase));
}
