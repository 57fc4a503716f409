using System.Net;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Erasure;

/// <summary><c>DELETE /runs/{id}?purge=true</c> over real HTTP on the standalone host and Azurite.</summary>
[TestFixture]
public sealed class RunPurgeTests : HostedTests
{
    /// <summary>
    /// Tasks that write for longer than a flush, so their live texts are saved: a writing shorter than one is never
    /// stored, and the purge must be seen to erase the texts that are.
    /// </summary>
    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__Simulated__LatencyMs"] = "300",
        ["Orchflow__Live__FlushMs"] = "20",
    };

    [Test]
    public async Task PurgeRun_WaitingRun_Returns202ThenAnswers404AndNoRowOrHistoryOfItIsLeft()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = "Research competitors, then draft a memo.", ask_me_about = new[] { "company details" } })).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");

        var purged = await client.SendAsync(HttpMethod.Delete, $"runs/{runId}?purge=true");
        var read = await client.SendAsync(HttpMethod.Get, $"runs/{runId}");
        var events = await client.SendAsync(HttpMethod.Get, $"runs/{runId}/events");
        var listed = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "runs"), HttpStatusCode.OK);

        Assert.Multiple(() =>
        {
            Assert.That(purged.Status, Is.EqualTo(HttpStatusCode.Accepted), purged.Text);
            Assert.That(purged.Text, Is.Empty);
            ApiAssert.Problem(read, HttpStatusCode.NotFound, "not_found");
            ApiAssert.Problem(events, HttpStatusCode.NotFound, "not_found");
            Assert.That(listed["total"]!.GetValue<int>(), Is.Zero);
            Assert.That(listed["runs"]!.AsArray(), Is.Empty);
        });
        // Its rows at once; its orchestration's history once the orchestration has ended, in a later pass.
        await StoredRows.WaitUntilNoneMentionAsync(Host, [runId]);
    }

    [Test]
    public async Task PurgeRun_OneOfTwo_LeavesTheOtherListedAndCounted()
    {
        using var client = await RegisterAsync();
        var kept = (await client.StartRunAsync(new { task = "Research competitors and write a short report." })).Str("run_id");
        var erased = (await client.StartRunAsync(new { task = "Research pricing and write a short report." })).Str("run_id");
        await client.WaitForStatusAsync(erased, "completed");
        await client.WaitForStatusAsync(kept, "completed");

        var purged = await client.SendAsync(HttpMethod.Delete, $"runs/{erased}?purge=true");
        var listed = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "runs"), HttpStatusCode.OK);

        Assert.Multiple(() =>
        {
            Assert.That(purged.Status, Is.EqualTo(HttpStatusCode.Accepted), purged.Text);
            Assert.That(listed["total"]!.GetValue<int>(), Is.EqualTo(1));
            Assert.That(listed["runs"]!.AsArray().Select(r => r!.Str("run_id")), Is.EqualTo(new[] { kept }));
        });
        await StoredRows.WaitUntilNoneMentionAsync(Host, [erased]);
        var keptRows = await StoredRows.MentioningAsync(Host, [kept]);
        Assert.Multiple(() =>
        {
            Assert.That(keptRows, Has.Some.StartsWith(Host.TablePrefix + "RunTasks"), "the other run's rows are kept");
            Assert.That(keptRows, Has.Some.StartsWith(Host.TaskHub + "History"), "and its orchestration's history");
        });
    }

    [Test]
    public async Task PurgeRun_CompletedRunWithLiveTextsAndWebhookDeliveries_LeavesNothingNamingItInAnyTable()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var client = await RegisterAsync();
        var webhookId = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, "webhooks",
            new { url = receiver.Url("/purged"), events = new[] { "run.completed" } }), HttpStatusCode.Created).Str("webhook_id");
        var runId = (await client.StartRunAsync(new { task = "Research pricing and write a short report." })).Str("run_id");
        await client.WaitForStatusAsync(runId, "completed");
        await client.WaitForDeliveriesAsync(webhookId, d => d.Count >= 1, "the run's completion delivered");
        var before = await StoredRows.MentioningAsync(Host, [runId]);

        var purged = await client.SendAsync(HttpMethod.Delete, $"runs/{runId}?purge=true");

        Assert.Multiple(() =>
        {
            Assert.That(purged.Status, Is.EqualTo(HttpStatusCode.Accepted), purged.Text);
            Assert.That(before, Has.Some.Contains(" | ~~live~"), "precondition: the run had live texts");
            Assert.That(before, Has.Some.StartsWith(Host.TablePrefix + "WebhookDeliveries"), "and deliveries");
            Assert.That(before, Has.Some.StartsWith(Host.TaskHub + "Instances"), "and an orchestration");
        });
        await StoredRows.WaitUntilNoneMentionAsync(Host, [runId]);
        Assert.That(await StoredRows.MentioningAsync(Host, [webhookId]), Has.Some.StartsWith(Host.TablePrefix + "Webhooks"), "the webhook itself stays");
    }

    [Test]
    public async Task PurgeRun_Twice_SecondAnswers404()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = "Research competitors.", ask_me_about = new[] { "budget" } })).Str("run_id");

        var first = await client.SendAsync(HttpMethod.Delete, $"runs/{runId}?purge=true");
        var second = await client.SendAsync(HttpMethod.Delete, $"runs/{runId}?purge=true");

        Assert.That(first.Status, Is.EqualTo(HttpStatusCode.Accepted), first.Text);
        ApiAssert.Problem(second, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task PurgeRun_AnotherAccountsRun_Returns404AndTheRunStays()
    {
        using var owner = await RegisterAsync();
        using var stranger = await RegisterAsync();
        var runId = (await owner.StartRunAsync(new { task = "Research competitors.", ask_me_about = new[] { "budget" } })).Str("run_id");

        var response = await stranger.SendAsync(HttpMethod.Delete, $"runs/{runId}?purge=true");

        ApiAssert.Problem(response, HttpStatusCode.NotFound, "not_found");
        Assert.That((await owner.SendAsync(HttpMethod.Get, $"runs/{runId}")).Status, Is.EqualTo(HttpStatusCode.OK));
    }

    [TestCase("yes")]
    [TestCase("1")]
    [TestCase("TRUE")]
    public async Task PurgeRun_FlagNotTrueOrFalse_Returns422NamingPurgeAndTheRunStays(string flag)
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = "Research competitors.", ask_me_about = new[] { "budget" } })).Str("run_id");

        var response = await client.SendAsync(HttpMethod.Delete, $"runs/{runId}?purge={flag}");

        ApiAssert.Invalid(response, "purge");
        Assert.That((await client.GetRunAsync(runId)).Str("status"), Is.Not.EqualTo("cancelled"));
    }

    [Test]
    public async Task PurgeRun_MalformedId_Returns404()
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Delete, "runs/not-a-run?purge=true");

        ApiAssert.Problem(response, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task CancelRun_PurgeFalse_CancelsAndKeepsTheRun()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = "Research competitors.", ask_me_about = new[] { "budget" } })).Str("run_id");

        var response = await client.SendAsync(HttpMethod.Delete, $"runs/{runId}?purge=false");

        Assert.That(ApiAssert.Json(response, HttpStatusCode.OK).Str("status"), Is.EqualTo("cancelled"));
        Assert.That((await client.GetRunAsync(runId)).Str("status"), Is.EqualTo("cancelled"));
    }
}
