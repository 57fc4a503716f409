using System.Globalization;
using System.Net;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Erasure;

/// <summary>
/// The retention sweep of the standalone host with a short setting (a run ended more than 12 s ago is erased, swept
/// every second): an ended run goes, rows and history; a run still going stays.
/// </summary>
[TestFixture]
public sealed class RetentionTests : HostedTests
{
    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__Retention__EndedRunDays"] = (12.0 / 86400).ToString(CultureInfo.InvariantCulture),
        ["Orchflow__Retention__SweepIntervalSeconds"] = "1",
    };

    [Test]
    public async Task Sweep_RunEndedLongerAgoThanTheSetting_IsErasedAndARunStillWaitingStays()
    {
        using var client = await RegisterAsync();
        var waiting = (await client.StartRunAsync(new { task = "Research competitors, then draft a memo.", ask_me_about = new[] { "company details" } })).Str("run_id");
        var ended = (await client.StartRunAsync(new { task = "Research pricing and write a short report." })).Str("run_id");
        await client.WaitForStatusAsync(ended, "completed");
        await client.WaitForStatusAsync(waiting, "waiting_human");

        await StoredRows.WaitUntilNoneMentionAsync(Host, [ended], TimeSpan.FromSeconds(90));
        var endedRead = await client.SendAsync(HttpMethod.Get, $"runs/{ended}");
        var waitingRead = await client.GetRunAsync(waiting);
        var listed = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "runs"), HttpStatusCode.OK);

        Assert.Multiple(async () =>
        {
            ApiAssert.Problem(endedRead, HttpStatusCode.NotFound, "not_found");
            Assert.That(waitingRead.Str("status"), Is.EqualTo("waiting_human"));
            Assert.That(listed["runs"]!.AsArray().Select(r => r!.Str("run_id")), Is.EqualTo(new[] { waiting }));
            Assert.That(listed["total"]!.GetValue<int>(), Is.EqualTo(1));
            Assert.That(await StoredRows.MentioningAsync(Host, [waiting]), Has.Some.StartsWith(Host.TaskHub + "History"), "the waiting run's history stays");
        });
    }
}
