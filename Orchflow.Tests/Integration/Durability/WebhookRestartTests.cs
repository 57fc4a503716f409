using System.Net;
using NUnit.Framework.Interfaces;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Durability;

/// <summary>
/// A delivery waiting for its retry lives on the queue, not in the process: the host going away (gracefully or by a
/// crash) between two attempts does not lose it, and the next process makes the retry under the same webhook-id.
/// </summary>
[TestFixture]
// Beside another fixture: hosts of its own that mostly wait for retries, on tables and a task hub no other fixture uses.
[Parallelizable(ParallelScope.Self)]
public sealed class WebhookRestartTests
{
    OrchflowHost? host;
    WebhookReceiver? receiver;

    [TearDown]
    public async Task StopAsync()
    {
        if (host is not null)
        {
            if (TestContext.CurrentContext.Result.Outcome.Status == TestStatus.Failed)
            {
                await TestContext.Out.WriteLineAsync("Host output:\n" + host.Output);
            }

            await TestHosts.EndAsync(host);
            host = null;
        }

        if (receiver is not null)
        {
            await receiver.DisposeAsync();
            receiver = null;
        }
    }

    [TestCase(true, TestName = "KillBetweenAttempts_TheNextProcessMakesTheRetryUnderTheSameId")]
    [TestCase(false, TestName = "GracefulRestartBetweenAttempts_TheNextProcessMakesTheRetryUnderTheSameId")]
    public async Task RestartBetweenAttempts_RetryDelivered(bool kill)
    {
        receiver = await WebhookReceiver.StartAsync();
        host = await TestHosts.StartAsync(new Dictionary<string, string>
        {
            // Long enough for the host to be gone before the retry shows.
            ["Orchflow__Webhooks__FirstRetryDelayMs"] = "4000",
            ["Orchflow__Webhooks__RetryBackoffFactor"] = "1",
        });
        using var client = await OrchflowClient.RegisterAsync(host.BaseAddress);
        receiver.Script("/restart", WebhookReceiver.Status(503));
        var created = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, "webhooks",
            new { url = receiver.Url("/restart"), events = new[] { "run.waiting_human" } }), HttpStatusCode.Created);

        await client.StartRunAsync(new { task = RunScenarios.Goal, ask_me_about = new[] { "company details" } });
        var first = (await receiver.WaitForAsync("/restart", 1, TimeSpan.FromSeconds(30)))[0];
        // The first attempt is on record before the process goes: a process killed between sending and recording
        // makes the same delivery again as a first attempt, which is at-least-once but not what this test is about.
        await client.WaitForDeliveriesAsync(created.Str("webhook_id"), d => d is [{ } only] && only["attempts"]!.GetValue<int>() == 1,
            "one delivery with its first attempt recorded", TimeSpan.FromSeconds(10));
        if (kill)
        {
            await host.KillAsync();
        }
        else
        {
            await host.StopAsync();
        }

        var gone = DateTimeOffset.UtcNow;
        await host.StartAgainAsync();
        var attempts = await receiver.WaitForAsync("/restart", 2, TimeSpan.FromSeconds(60));

        var deliveries = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, $"webhooks/{created.Str("webhook_id")}/deliveries"), HttpStatusCode.OK)["deliveries"]!.AsArray();
        var verdicts = await StandardWebhooks.VerifyAsync(attempts.Select(a => (a, created.Str("secret"))));
        Assert.Multiple(() =>
        {
            Assert.That(attempts, Has.Count.EqualTo(2), "one retry, not one per process");
            // The old process had exited before the retry came: the new one made it.
            Assert.That(attempts[1].ReceivedAt, Is.GreaterThan(gone));
            Assert.That(attempts[1].Id, Is.EqualTo(first.Id));
            Assert.That(attempts[1].Body, Is.EqualTo(first.Body));
            Assert.That(verdicts, Is.All.Null);
            Assert.That(deliveries, Has.Count.EqualTo(1));
            Assert.That(deliveries[0]!.Str("status"), Is.EqualTo("succeeded"));
            Assert.That(deliveries[0]!["attempts"]!.GetValue<int>(), Is.EqualTo(2));
        });
    }
}
