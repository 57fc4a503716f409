using System.Net;
using Microsoft.Extensions.Options;
using Orchflow.Accounts;
using Orchflow.Infrastructure;
using Orchflow.Testing;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Erasure;

/// <summary>
/// <c>DELETE /account</c> over real HTTP on the standalone host and Azurite: the keys stop at once, the runs are
/// cancelled, and then no table (nor the task hub) holds a row of the account, while another account keeps all of its.
/// </summary>
[TestFixture]
public sealed class AccountErasureTests : HostedTests
{
    /// <summary>The test host runs in Development, whose pepper the key hashes (and so the rate limit buckets) are keyed with.</summary>
    static readonly ApiKeys Keys = new(Options.Create(new SecurityOptions { AllowDevelopmentKeys = true }));

    WebhookReceiver receiver = null!;
    LoopbackMcpServer tools = null!;

    [OneTimeSetUp]
    public async Task StartServersAsync()
    {
        receiver = await WebhookReceiver.StartAsync();
        tools = await LoopbackMcpServer.StartAsync();
    }

    [OneTimeTearDown]
    public async Task StopServersAsync()
    {
        await receiver.DisposeAsync();
        await tools.DisposeAsync();
    }

    [Test]
    public async Task CloseAccount_WithRunsProvidersWebhooksToolServersAndKeys_ErasesEveryRowOfItAndNoneOfAnothers()
    {
        using var anonymous = new OrchflowClient(Host.BaseAddress);
        var email = $"{Guid.NewGuid():N}@example.com";
        var registered = ApiAssert.Json(await anonymous.SendAsync(HttpMethod.Post, "auth/register", new { name = "Closing", email }), HttpStatusCode.Created);
        using var closing = anonymous.WithKey(registered.Str("api_key"));
        var closingOwn = await OwnEverythingAsync(closing, "closing");
        var secondKey = ApiAssert.Json(await closing.SendAsync(HttpMethod.Post, "auth/keys", new { label = "Second" }), HttpStatusCode.Created).Str("api_key");
        using var keeping = await RegisterAsync();
        var keepingOwn = await OwnEverythingAsync(keeping, "keeping");

        var closed = await closing.SendAsync(HttpMethod.Delete, "account");
        var firstKeyAfter = await closing.SendAsync(HttpMethod.Get, "runs");
        using var second = closing.WithKey(secondKey);
        var secondKeyAfter = await second.SendAsync(HttpMethod.Get, "runs");

        Assert.Multiple(() =>
        {
            Assert.That(closed.Status, Is.EqualTo(HttpStatusCode.Accepted), closed.Text);
            Assert.That(closed.Text, Is.Empty);
            ApiAssert.Problem(firstKeyAfter, HttpStatusCode.Unauthorized, "unauthorized");
            ApiAssert.Problem(secondKeyAfter, HttpStatusCode.Unauthorized, "unauthorized");
        });
        var bucketOfKey = "key-" + Keys.Hash(closing.ApiKey!);
        await StoredRows.WaitUntilNoneMentionAsync(Host, [.. closingOwn, Keys.Hash(secondKey), bucketOfKey], TimeSpan.FromSeconds(120));

        var kept = await StoredRows.MentioningAsync(Host, [keepingOwn[0]]);
        var tables = kept.Select(r => r.Split(" | ")[0][Host.TablePrefix.Length..]).ToHashSet();
        Assert.Multiple(async () =>
        {
            Assert.That(tables, Is.SupersetOf(new[] { "Accounts", "Runs", "Providers", "Secrets", "Webhooks", "ToolServers", "Idempotency" }),
                "the other account keeps a row in each table it had one in");
            Assert.That(await StoredRows.MentioningAsync(Host, [keepingOwn[1]]), Has.Some.StartsWith(Host.TablePrefix + "RunTasks"));
            Assert.That((await keeping.SendAsync(HttpMethod.Get, $"runs/{keepingOwn[1]}")).Status, Is.EqualTo(HttpStatusCode.OK));
            var again = await anonymous.SendAsync(HttpMethod.Post, "auth/register", new { name = "Back again", email });
            Assert.That(again.Status, Is.EqualTo(HttpStatusCode.Created), "the email is free again: " + again.Text);
        });
    }

    [Test]
    public async Task CloseAccount_WithoutAKey_Returns401()
    {
        var response = await Anonymous.SendAsync(HttpMethod.Delete, "account");

        ApiAssert.Problem(response, HttpStatusCode.Unauthorized, "unauthorized");
    }

    /// <summary>
    /// Gives the account one of everything it can own: a run waiting on a person (started with an idempotency key), a
    /// completed run whose events a webhook delivered, a provider, a webhook and a tool server. Returns their ids, the
    /// account's first, then the waiting run's.
    /// </summary>
    async Task<List<string>> OwnEverythingAsync(OrchflowClient client, string name)
    {
        var accountId = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "account"), HttpStatusCode.OK).Str("account_id");
        var (providerId, _) = await client.CreateProviderAsync(new Uri("http://127.0.0.1:9/v1"));
        var webhookId = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, "webhooks",
            new { url = receiver.Url($"/{name}"), events = new[] { "run.completed", "run.waiting_human" } }), HttpStatusCode.Created).Str("webhook_id");
        var serverId = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, "tool-servers",
            new { url = tools.Url, label = "Tools", headers = new Dictionary<string, string> { ["Authorization"] = "Bearer " + name } }),
            HttpStatusCode.Created).Str("server_id");
        var waiting = await client.SendRawAsync(HttpMethod.Post, "runs",
            System.Text.Json.JsonSerializer.Serialize(new { task = "Research competitors, then draft a memo.", ask_me_about = new[] { "company details" } }),
            header: ("Idempotency-Key", name));
        var waitingId = ApiAssert.Json(waiting, HttpStatusCode.Accepted).Str("run_id");
        var completedId = (await client.StartRunAsync(new { task = "Research pricing and write a short report." })).Str("run_id");
        await client.WaitForStatusAsync(waitingId, "waiting_human");
        await client.WaitForStatusAsync(completedId, "completed");
        await client.WaitForDeliveriesAsync(webhookId, d => d.Count >= 2, "both runs' events delivered");
        return [accountId, waitingId, completedId, providerId, webhookId, serverId];
    }
}
