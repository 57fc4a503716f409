using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orchflow.Abstractions;
using Orchflow.Functions.Functions;
using Orchflow.Tests.Integration.Mcp;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// What one account may hold at once, over real HTTP: twenty concurrent creates of webhooks, tool servers or providers on
/// an account one short of its limit make exactly one, and a delete frees exactly one place; active runs are bounded
/// (<c>Orchflow:Accounts:MaxActiveRuns</c>, two here) for starts and retries, however many arrive together, without a
/// trial charge for a refused one (MCP <c>start_run</c> included), and a refused start's <c>Idempotency-Key</c> starts the run once there is room.
/// </summary>
[TestFixture]
public sealed class AccountLimitsApiTests : HostedTests
{
    const int MaxActiveRuns = 2;
    const int MaxWebhooks = 10;

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__Accounts__MaxActiveRuns"] = MaxActiveRuns.ToString(),
    };

    /// <summary>A run that pauses for its person, so it stays active until it is cancelled.</summary>
    static readonly object WaitingRun = new { task = RunScenarios.Goal, ask_me_about = new[] { "company details" } };

    [Test]
    public async Task CreateWebhook_TwentyAtOnceOneShortOfTheLimit_OneIsCreatedAndADeleteFreesOnePlace() =>
        await OnePlaceLeftAsync("webhooks", "webhooks", "webhook_id", MaxWebhooks,
            () => new { url = $"https://hooks.example.com/{Guid.NewGuid():N}" });

    [Test]
    public async Task CreateProvider_TwentyAtOnceOneShortOfTheLimit_OneIsCreatedAndADeleteFreesOnePlace() =>
        await OnePlaceLeftAsync("providers", "providers", "provider_id", ProvidersFunctions.MaxPerAccount,
            () => new { provider = "openai", api_key = "sk-" + Guid.NewGuid().ToString("N"), model = "gpt-4o-mini" });

    [Test]
    public async Task CreateToolServer_TwentyAtOnceOneShortOfTheLimit_OneIsCreatedAndADeleteFreesOnePlace()
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        await OnePlaceLeftAsync("tool-servers", "tool_servers", "server_id", ToolLimits.MaxServersPerAccount, () => new { url = server.Url });
    }

    /// <summary>
    /// Fills an account to one short of <paramref name="max"/>, sends twenty creates at once, then deletes one and sends
    /// twenty more: each time exactly one is created, the others answered 409 naming the limit, the list at the limit.
    /// </summary>
    async Task OnePlaceLeftAsync(string path, string listed, string idField, int max, Func<object> body)
    {
        using var client = await RegisterAsync();
        for (var i = 0; i < max - 1; i++)
        {
            ApiAssert.Json(await client.SendAsync(HttpMethod.Post, path, body()), HttpStatusCode.Created);
        }

        var first = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.SendAsync(HttpMethod.Post, path, body())));
        var list = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, path), HttpStatusCode.OK)[listed]!.AsArray();
        var deleted = list[0]!.Str(idField);
        Assert.That((await client.SendAsync(HttpMethod.Delete, $"{path}/{deleted}")).Status, Is.EqualTo(HttpStatusCode.NoContent));
        var second = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.SendAsync(HttpMethod.Post, path, body())));
        var after = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, path), HttpStatusCode.OK)[listed]!.AsArray();

        Assert.Multiple(() =>
        {
            foreach (var round in new[] { first, second })
            {
                Assert.That(round.Count(r => r.Status == HttpStatusCode.Created), Is.EqualTo(1), string.Join("\n", round.Select(r => r.Text)));
                foreach (var refused in round.Where(r => r.Status != HttpStatusCode.Created))
                {
                    ApiAssert.Problem(refused, HttpStatusCode.Conflict, "conflict");
                    Assert.That(refused.Json!.Str("detail"), Does.Contain($"{max} ").And.Contain($"DELETE /api/v1/{path}/"));
                }
            }

            Assert.That(list, Has.Count.EqualTo(max));
            Assert.That(after, Has.Count.EqualTo(max));
            Assert.That(after.Select(i => i!.Str(idField)), Does.Not.Contain(deleted));
        });
    }

    [Test]
    public async Task StartRun_AtTheLimit_Returns409SayingWhatToDoWhileAnotherAccountStarts()
    {
        using var client = await RegisterAsync();
        using var other = await RegisterAsync();
        var going = await StartRunsAsync(client, MaxActiveRuns);
        var trialBefore = await TrialLeftAsync(client);

        var refused = await client.SendAsync(HttpMethod.Post, "runs", WaitingRun);
        var elsewhere = await other.SendAsync(HttpMethod.Post, "runs", WaitingRun);

        ApiAssert.Problem(refused, HttpStatusCode.Conflict, "conflict");
        Assert.Multiple(async () =>
        {
            Assert.That(refused.Json!.Str("detail"), Does.Contain($"{MaxActiveRuns} active runs").And.Contain("DELETE /api/v1/runs/"));
            Assert.That(elsewhere.Status, Is.EqualTo(HttpStatusCode.Accepted), elsewhere.Text);
            Assert.That(await TrialLeftAsync(client), Is.EqualTo(trialBefore), "a refused start is not charged");
            Assert.That(ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "runs"), HttpStatusCode.OK)["total"]!.GetValue<int>(),
                Is.EqualTo(going.Count), "a refused start stores no run");
        });
    }

    [Test]
    public async Task StartRun_OneOfTheActiveRunsCancelled_StartsAgain()
    {
        using var client = await RegisterAsync();
        var going = await StartRunsAsync(client, MaxActiveRuns);
        ApiAssert.Problem(await client.SendAsync(HttpMethod.Post, "runs", WaitingRun), HttpStatusCode.Conflict, "conflict");

        ApiAssert.Json(await client.SendAsync(HttpMethod.Delete, $"runs/{going[0]}"), HttpStatusCode.OK);

        var started = await client.SendAsync(HttpMethod.Post, "runs", WaitingRun);
        var refused = await client.SendAsync(HttpMethod.Post, "runs", WaitingRun);
        Assert.Multiple(() =>
        {
            Assert.That(started.Status, Is.EqualTo(HttpStatusCode.Accepted), started.Text);
            Assert.That(refused.Status, Is.EqualTo(HttpStatusCode.Conflict), refused.Text);
        });
    }

    [Test]
    public async Task StartRun_TenAtOnce_NoMoreThanTheLimitStartAndOnlyTheyAreCharged()
    {
        using var client = await RegisterAsync();
        var trialBefore = await TrialLeftAsync(client);

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => client.SendAsync(HttpMethod.Post, "runs", WaitingRun)));

        Assert.Multiple(async () =>
        {
            Assert.That(answers.Count(a => a.Status == HttpStatusCode.Accepted), Is.EqualTo(MaxActiveRuns), string.Join("\n", answers.Select(a => a.Text)));
            Assert.That(answers.Where(a => a.Status != HttpStatusCode.Accepted).Select(a => a.Code), Is.All.EqualTo("conflict"));
            Assert.That(await TrialLeftAsync(client), Is.EqualTo(trialBefore - MaxActiveRuns));
        });
    }

    [Test]
    public async Task StartRun_RefusedWithAnIdempotencyKey_TheSameRequestStartsOnceThereIsRoom()
    {
        using var client = await RegisterAsync();
        var going = await StartRunsAsync(client, MaxActiveRuns);
        var key = Guid.NewGuid().ToString("N");
        var body = JsonSerializer.Serialize(WaitingRun);

        var refused = await client.SendRawAsync(HttpMethod.Post, "runs", body, header: ("Idempotency-Key", key));
        ApiAssert.Json(await client.SendAsync(HttpMethod.Delete, $"runs/{going[0]}"), HttpStatusCode.OK);
        var started = await client.SendRawAsync(HttpMethod.Post, "runs", body, header: ("Idempotency-Key", key));
        var replayed = await client.SendRawAsync(HttpMethod.Post, "runs", body, header: ("Idempotency-Key", key));

        Assert.Multiple(() =>
        {
            Assert.That(refused.Status, Is.EqualTo(HttpStatusCode.Conflict), refused.Text);
            Assert.That(started.Status, Is.EqualTo(HttpStatusCode.Accepted), started.Text);
            Assert.That(started.Header("Idempotent-Replayed"), Is.Null);
            Assert.That(replayed.Status, Is.EqualTo(HttpStatusCode.Accepted), replayed.Text);
            Assert.That(replayed.Json?.Str("run_id"), Is.EqualTo(started.Json?.Str("run_id")));
            Assert.That(replayed.Header("Idempotent-Replayed"), Is.EqualTo("true"));
        });
    }

    [Test]
    public async Task RetryRun_AtTheLimit_Returns409UnchargedAndGoesOnceAPlaceIsFree()
    {
        using var client = await RegisterAsync();
        var cancelled = (await StartRunsAsync(client, 1))[0];
        ApiAssert.Json(await client.SendAsync(HttpMethod.Delete, $"runs/{cancelled}"), HttpStatusCode.OK);
        var going = await StartRunsAsync(client, MaxActiveRuns);
        var trialBefore = await TrialLeftAsync(client);

        var refused = await client.SendAsync(HttpMethod.Post, $"runs/{cancelled}/retry");
        var trialAfterRefusal = await TrialLeftAsync(client);
        ApiAssert.Json(await client.SendAsync(HttpMethod.Delete, $"runs/{going[0]}"), HttpStatusCode.OK);
        var retried = await client.SendAsync(HttpMethod.Post, $"runs/{cancelled}/retry");
        var refusedStart = await client.SendAsync(HttpMethod.Post, "runs", WaitingRun);

        ApiAssert.Problem(refused, HttpStatusCode.Conflict, "conflict");
        Assert.Multiple(() =>
        {
            Assert.That(trialAfterRefusal, Is.EqualTo(trialBefore));
            Assert.That(retried.Status, Is.EqualTo(HttpStatusCode.Accepted), retried.Text);
            Assert.That(refusedStart.Status, Is.EqualTo(HttpStatusCode.Conflict), "the retried run holds the place it took");
        });
    }

    [Test]
    public async Task McpStartRun_AtTheLimit_AToolErrorSayingWhatToDo()
    {
        using var client = await RegisterAsync();
        await StartRunsAsync(client, MaxActiveRuns);
        await using var mcp = await McpClients.ConnectAsync(Host, client.ApiKey!);

        var refused = await mcp.CallAsync("start_run", new JsonObject { ["task"] = RunScenarios.Goal });

        Assert.Multiple(() =>
        {
            Assert.That(refused.IsError, Is.True);
            Assert.That(refused.Json()["code"]!.GetValue<string>(), Is.EqualTo("conflict"), refused.Json().ToJsonString());
            Assert.That(refused.Json()["detail"]!.GetValue<string>(), Does.Contain($"{MaxActiveRuns} active runs"));
        });
    }

    static async Task<List<string>> StartRunsAsync(OrchflowClient client, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            ids.Add((await client.StartRunAsync(WaitingRun)).Str("run_id"));
        }

        return ids;
    }

    static async Task<int> TrialLeftAsync(OrchflowClient client) =>
        ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "account"), HttpStatusCode.OK)["trial_runs_remaining"]!.GetValue<int>();
}
