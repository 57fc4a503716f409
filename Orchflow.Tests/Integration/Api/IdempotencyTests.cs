using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// Idempotency-Key over real HTTP: a request sent again is answered as the first time without being done twice, under
/// concurrency too; a key reused for another request is refused; keys belong to their account.
/// </summary>
[TestFixture]
public sealed class IdempotencyTests : HostedTests
{
    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__TrialRuns"] = "2",
    };

    static readonly object Start = new { task = RunScenarios.Goal };

    [Test]
    public async Task StartRun_SameKeyAndBodyTwice_ReplaysTheFirstAnswerAndChargesOneTrialRun()
    {
        using var client = await RegisterAsync();
        var key = NewKey();

        var first = await SendAsync(client, HttpMethod.Post, "runs", Start, key);
        var second = await SendAsync(client, HttpMethod.Post, "runs", Start, key);
        var unkeyed = await client.SendAsync(HttpMethod.Post, "runs", Start);
        var overTheTrial = await client.SendAsync(HttpMethod.Post, "runs", Start);

        Assert.Multiple(() =>
        {
            Assert.That(first.Status, Is.EqualTo(HttpStatusCode.Accepted), first.Text);
            Assert.That(first.Header("Idempotent-Replayed"), Is.Null);
            Assert.That(second.Status, Is.EqualTo(HttpStatusCode.Accepted), second.Text);
            Assert.That(second.Header("Idempotent-Replayed"), Is.EqualTo("true"));
            Assert.That(second.Text, Is.EqualTo(first.Text), "the same body");
            Assert.That(second.Location, Is.EqualTo(first.Location));
            Assert.That(unkeyed.Status, Is.EqualTo(HttpStatusCode.Accepted), "the replay took no trial run: one is left");
            ApiAssert.Problem(overTheTrial, HttpStatusCode.PaymentRequired, "trial_exhausted");
        });
        Assert.That(await TotalRunsAsync(client), Is.EqualTo(2));
    }

    [Test]
    public async Task StartRun_TenIdenticalAtOnce_MakeOneRunAndEachAnswerIsItOrA409()
    {
        using var client = await RegisterAsync();
        var key = NewKey();

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => SendAsync(client, HttpMethod.Post, "runs", Start, key)));

        var accepted = answers.Where(a => a.Status == HttpStatusCode.Accepted).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(answers.Select(a => a.Status), Is.All.AnyOf(HttpStatusCode.Accepted, HttpStatusCode.Conflict));
            Assert.That(accepted.Select(a => a.Json!.Str("run_id")).Distinct().Count(), Is.EqualTo(1), "one run");
            Assert.That(answers.Where(a => a.Status == HttpStatusCode.Conflict).Select(a => a.Code), Is.All.EqualTo("idempotency_in_progress"));
        });
        Assert.That(await TotalRunsAsync(client), Is.EqualTo(1));
    }

    [Test]
    public async Task StartRun_SameKeyOtherBody_Returns422IdempotencyMismatchAndStartsNothing()
    {
        using var client = await RegisterAsync();
        var key = NewKey();
        Assert.That((await SendAsync(client, HttpMethod.Post, "runs", Start, key)).Status, Is.EqualTo(HttpStatusCode.Accepted));

        var other = await SendAsync(client, HttpMethod.Post, "runs", new { task = "Write a different memo." }, key);

        ApiAssert.Problem(other, (HttpStatusCode)422, "idempotency_mismatch");
        Assert.That(await TotalRunsAsync(client), Is.EqualTo(1));
    }

    [Test]
    public async Task StartRun_AnotherAccountsKey_IsItsOwn()
    {
        using var a = await RegisterAsync();
        using var b = await RegisterAsync();
        var key = NewKey();

        var fromA = await SendAsync(a, HttpMethod.Post, "runs", Start, key);
        var fromB = await SendAsync(b, HttpMethod.Post, "runs", Start, key);

        Assert.Multiple(() =>
        {
            Assert.That(fromB.Status, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(fromB.Header("Idempotent-Replayed"), Is.Null, "B's request is done, not replayed from A's");
            Assert.That(fromB.Json!.Str("run_id"), Is.Not.EqualTo(fromA.Json!.Str("run_id")));
        });
    }

    [Test]
    public async Task CompleteTask_ConcurrentRetriesWithOneKey_AnswerOnceAndReplayIt()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        var key = NewKey();
        var answer = new { output = "We build workflow APIs." };

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => SendAsync(client, HttpMethod.Post, $"runs/{runId}/tasks/T1/complete", answer, key)));
        var later = await SendAsync(client, HttpMethod.Post, $"runs/{runId}/tasks/T1/complete", answer, key);

        var original = answers.Single(a => a.Status == HttpStatusCode.OK && a.Header("Idempotent-Replayed") is null);
        Assert.Multiple(() =>
        {
            Assert.That(answers.Select(a => a.Status), Is.All.AnyOf(HttpStatusCode.OK, HttpStatusCode.Conflict));
            Assert.That(answers.Where(a => a.Status == HttpStatusCode.Conflict).Select(a => a.Code), Is.All.EqualTo("idempotency_in_progress"),
                "never 'not waiting': the one answer was given once");
            Assert.That(later.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(later.Header("Idempotent-Replayed"), Is.EqualTo("true"));
            Assert.That(later.Text, Is.EqualTo(original.Text));
        });
    }

    [Test]
    public async Task CreateProvider_Replayed_ComesFromTheSecretStoreNotTheTable()
    {
        using var client = await RegisterAsync();
        var key = NewKey();
        var body = new { provider = "openai", api_key = "sk-idem-" + Guid.NewGuid().ToString("N"), label = "Mine", model = "gpt-4o-mini" };

        var first = await SendAsync(client, HttpMethod.Post, "providers", body, key);
        var again = await SendAsync(client, HttpMethod.Post, "providers", body, key);

        var rows = new List<TableEntity>();
        await foreach (var row in new TableClient(TestEnvironment.Azurite.ConnectionString, Host.TablePrefix + "Idempotency").QueryAsync<TableEntity>())
        {
            rows.Add(row);
        }

        Assert.Multiple(() =>
        {
            Assert.That(first.Status, Is.EqualTo(HttpStatusCode.Created));
            Assert.That(again.Text, Is.EqualTo(first.Text));
            Assert.That(again.Header("Cache-Control"), Is.EqualTo("no-store"));
            var row = rows.Single(r => r.GetString("BodySecret") is not null);
            Assert.That(row.Keys.Where(k => k.StartsWith("Body", StringComparison.Ordinal) && k != "BodySecret"), Is.Empty);
            Assert.That(JsonSerializer.Serialize(rows.Select(r => r.ToDictionary(p => p.Key, p => p.Value?.ToString()))), Does.Not.Contain("key_hint"),
                "answers marked no-store are not kept in the table");
        });
    }

    [TestCase("")]
    [TestCase("a\u0001b")]
    public async Task StartRun_MalformedKey_Returns422NamingTheHeader(string key)
    {
        using var client = await RegisterAsync();

        var response = await SendAsync(client, HttpMethod.Post, "runs", Start, key);

        ApiAssert.Invalid(response, "Idempotency-Key");
    }

    [Test]
    public async Task StartRun_KeyOf256Characters_Returns422AndOf255IsTaken()
    {
        using var client = await RegisterAsync();

        var tooLong = await SendAsync(client, HttpMethod.Post, "runs", Start, new string('k', 256));
        var longest = await SendAsync(client, HttpMethod.Post, "runs", Start, new string('k', 255));

        ApiAssert.Invalid(tooLong, "Idempotency-Key");
        Assert.That(longest.Status, Is.EqualTo(HttpStatusCode.Accepted), longest.Text);
    }

    static string NewKey() => "key-" + Guid.NewGuid().ToString("N");

    static Task<ApiResponse> SendAsync(OrchflowClient client, HttpMethod method, string path, object body, string key) =>
        client.SendRawAsync(method, path, JsonSerializer.Serialize(body), header: ("Idempotency-Key", key));

    static async Task<int> TotalRunsAsync(OrchflowClient client) =>
        ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "runs"), HttpStatusCode.OK)["total"]!.GetValue<int>();
}
