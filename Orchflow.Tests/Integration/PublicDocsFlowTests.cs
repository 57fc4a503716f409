using System.Net;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration;

/// <summary>The flow the public documentation walks a user through, over real HTTP on the standalone host.</summary>
[TestFixture]
public sealed class PublicDocsFlowTests : HostedTests
{
    [Test]
    public async Task DocsFlow_AskMeAbout_PausesForT1ThenCompletesWithTheHumansAnswer()
    {
        using var client = await RegisterAsync();
        var started = await client.StartRunAsync(new
        {
            task = "Research 5 competitors, extract pricing, compare positioning, then propose our launch strategy.",
            ask_me_about = new[] { "company details" },
            require_approval = false,
        });
        var runId = started["run_id"]!.GetValue<string>();
        Assert.That(started["status"]!.GetValue<string>(), Is.EqualTo("queued"));

        var waiting = await client.WaitForStatusAsync(runId, "waiting_human");
        var t1 = waiting["subtasks"]!["T1"]!;
        Assert.Multiple(() =>
        {
            Assert.That(t1["kind"]!.GetValue<string>(), Is.EqualTo("human"));
            Assert.That(t1["state"]!.GetValue<string>(), Is.EqualTo("waiting_human"));
            Assert.That(t1["prompt"]!.GetValue<string>(), Does.Contain("company details"));
            Assert.That(waiting["waiting_on"]!.AsArray().Select(n => n!.GetValue<string>()), Is.EqualTo(new[] { "T1" }));
        });

        const string answer = "Company: a workflow API for AI apps. Brand voice: direct, useful, technical.";
        var completed = await client.CompleteAsync(runId, "T1", new { output = answer });
        Assert.That(completed.Status, Is.EqualTo(HttpStatusCode.OK), completed.Text);
        Assert.That(completed.Json!["state"]!.GetValue<string>(), Is.EqualTo("completed"));

        var done = await client.WaitForStatusAsync(runId, "completed");
        Assert.Multiple(() =>
        {
            Assert.That(done["final_output"]!.GetValue<string>(), Does.Contain(answer));
            Assert.That(done["subtasks"]!.AsObject().Select(t => t.Value!["state"]!.GetValue<string>()), Is.All.EqualTo("completed"));
            Assert.That(done["waiting_on"]!.AsArray(), Is.Empty);
            Assert.That(done["usage"]!["output_tokens"]!.GetValue<long>(), Is.GreaterThan(0));
        });
    }
}
