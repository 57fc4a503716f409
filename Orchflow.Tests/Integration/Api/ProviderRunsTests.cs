using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// Runs on real model providers, as a user sets them up: an OpenAI-compatible server (the loopback one) registered
/// with <c>POST /providers</c>, then runs with its <c>provider_id</c>. The plan, every output and the usage come from
/// that server; what it does wrong ends up in the run's <c>error</c> in words the user can act on. The managed trial
/// runs on the host's configured managed model, which is the same server under another key.
/// </summary>
[TestFixture]
public sealed partial class ProviderRunsTests : HostedTests
{
    const string ManagedKey = "managed-key-5c1b7e0d9a";
    const string Goal = "Research competitors and draft a launch strategy.";

    /// <summary>What the planner is answered: the human's context first, research alongside it, writing last.</summary>
    const string Plan = """
        {"tasks": [
          {"task_id": "T1", "name": "Provide company details", "description": "The company details the strategy needs.", "kind": "human", "agent": "", "depends_on": [], "prompt": "Tell us your company details: product, audience, brand voice."},
          {"task_id": "T2", "name": "Research competitors", "description": "Pricing and positioning of the main competitors.", "kind": "agent", "agent": "research", "depends_on": [], "prompt": ""},
          {"task_id": "T3", "name": "Draft the launch strategy", "description": "A one-page launch strategy.", "kind": "agent", "agent": "writer", "depends_on": ["T1", "T2"], "prompt": ""}
        ]}
        """;

    FakeChatServer server = null!;

    protected override async Task BeforeHostStartsAsync() => server = await FakeChatServer.StartAsync();

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__TrialRuns"] = "1",
        ["Orchflow__Models__RetryBaseDelayMs"] = "20",
        ["Orchflow__Models__MaxAttempts"] = "3",
        ["Orchflow__ManagedModel__Provider"] = "openai",
        ["Orchflow__ManagedModel__Model"] = "managed-model",
        ["Orchflow__ManagedModel__Endpoint"] = new Uri(server.BaseUri, "managed/v1").ToString(),
        ["Orchflow__ManagedModel__ApiKey"] = ManagedKey,
    };

    [OneTimeTearDown]
    public async Task StopServerAsync() => await server.DisposeAsync();

    [SetUp]
    public void AnswerLikeAModel()
    {
        server.Reset();
        server.Responder = Answer;
    }

    [Test]
    public async Task Run_OnOpenAICompatibleProvider_PlanOutputsUsageAndFinalOutputComeFromTheProvider()
    {
        using var client = await RegisterAsync();
        var (providerId, key) = await CreateProviderAsync(client);

        var runId = (await client.StartRunAsync(new
        {
            task = Goal,
            provider_id = providerId,
            agents = new[] { new { name = "research" }, new { name = "writer" } },
            ask_me_about = new[] { "company details" },
        })).Str("run_id");
        var waiting = await client.WaitForStatusAsync(runId, "waiting_human");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "We build workflow APIs. Voice: direct." }), HttpStatusCode.OK);
        var done = await client.WaitForStatusAsync(runId, "completed");

        var requests = server.Requests.Where(r => r.Path == "/v1/chat/completions").ToList();
        var writer = requests.Single(r => r.LastUser?.Contains("## Your task: T3") == true);
        Assert.Multiple(() =>
        {
            Assert.That(RunGraph.Tasks(waiting).Select(RunGraph.Id), Is.EqualTo(new[] { "T1", "T2", "T3" }), "the provider's plan");
            Assert.That(done.Str("planned_by"), Is.EqualTo("openai_compatible:llama3.1:8b"));
            Assert.That(RunGraph.Task(done, "T2").Str("output"), Is.EqualTo("Output of T2 from the provider."));
            Assert.That(RunGraph.Task(done, "T3").Str("output"), Is.EqualTo("Output of T3 from the provider."));
            Assert.That(done.Str("final_output"), Is.EqualTo("Final answer from the provider."));

            // Plan, two agent tasks and the synthesis: four calls at 11 tokens in and 7 out each.
            Assert.That(Usage(RunGraph.Task(done, "T1")), Is.EqualTo((0L, 0L)));
            Assert.That(Usage(RunGraph.Task(done, "T2")), Is.EqualTo((11L, 7L)));
            Assert.That(Usage(RunGraph.Task(done, "T3")), Is.EqualTo((11L, 7L)));
            Assert.That(Usage(done), Is.EqualTo((44L, 28L)));

            Assert.That(requests, Has.Count.EqualTo(4));
            Assert.That(requests.Select(r => r.Header("Authorization")), Is.All.EqualTo("Bearer " + key));
            Assert.That(requests.Select(r => r.Model), Is.All.EqualTo("llama3.1:8b"));
            Assert.That(writer.LastUser, Does.Contain("We build workflow APIs. Voice: direct.").And.Contain("Output of T2 from the provider."));
        });
    }

    [Test]
    public async Task Run_ProviderRejectsTheKey_FailsAfterOneRequestTellingToRegisterTheKeyAgain()
    {
        server.Responder = _ => FakeReply.Unauthorized();
        using var client = await RegisterAsync();
        var (providerId, _) = await CreateProviderAsync(client);

        var runId = (await client.StartRunAsync(new { task = Goal, provider_id = providerId })).Str("run_id");
        var failed = await client.WaitForStatusAsync(runId, "failed");

        Assert.Multiple(() =>
        {
            Assert.That(failed.Str("error"), Does.Contain("rejected the key").And.Contain("Register the provider again"));
            Assert.That(server.Requests, Has.Count.EqualTo(1), "a rejected key is tried once, not by every retry layer");
        });
    }

    [Test]
    public async Task Run_ProviderFailsATaskOnEveryAttempt_FailsNamingTheTaskAndStatusAfterThreeRequests()
    {
        server.Responder = r => TaskId(r) == "T2" ? FakeReply.ServerError(503) : Answer(r);
        using var client = await RegisterAsync();
        var (providerId, _) = await CreateProviderAsync(client);

        var runId = (await client.StartRunAsync(new { task = Goal, provider_id = providerId, ask_me_about = new[] { "company details" } })).Str("run_id");
        var failed = await client.WaitForStatusAsync(runId, "failed");

        Assert.Multiple(() =>
        {
            Assert.That(failed.Str("error"), Does.StartWith("Task T2 failed:").And.Contain("HTTP 503").And.Contain("all 3 attempts"));
            Assert.That(RunGraph.Task(failed, "T2").Str("state"), Is.EqualTo("failed"));
            Assert.That(server.Requests.Count(r => TaskId(r) == "T2"), Is.EqualTo(3), "Orchflow:Models:MaxAttempts, not multiplied by activity retries");
        });
    }

    [Test]
    public async Task Run_ProviderRateLimitsATaskOnce_WaitsForRetryAfterAndCompletes()
    {
        var limited = 0;
        server.Responder = r => TaskId(r) == "T2" && Interlocked.Increment(ref limited) == 1 ? FakeReply.RateLimited(1) : Answer(r);
        using var client = await RegisterAsync();
        var (providerId, _) = await CreateProviderAsync(client);

        var runId = (await client.StartRunAsync(new { task = Goal, provider_id = providerId })).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "Details." }), HttpStatusCode.OK);
        var done = await client.WaitForStatusAsync(runId, "completed");

        Assert.Multiple(() =>
        {
            Assert.That(RunGraph.Task(done, "T2").Str("output"), Is.EqualTo("Output of T2 from the provider."));
            Assert.That(server.Requests.Count(r => TaskId(r) == "T2"), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task Run_ProviderAnswersTheSynthesisWithGarbage_FailsSayingTheAnswerCouldNotBeRead()
    {
        server.Responder = r => IsSynthesis(r) ? FakeReply.Malformed() : Answer(r);
        using var client = await RegisterAsync();
        var (providerId, _) = await CreateProviderAsync(client);

        var runId = (await client.StartRunAsync(new { task = Goal, provider_id = providerId })).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "Details." }), HttpStatusCode.OK);
        var failed = await client.WaitForStatusAsync(runId, "failed");

        Assert.Multiple(() =>
        {
            Assert.That(failed.Str("error"), Does.StartWith("Synthesis failed:").And.Contain("could not be read as a chat completion"));
            Assert.That(server.Requests.Count(IsSynthesis), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Run_ProviderDeletedBeforeItsRunPlans_FailsTellingToRegisterItAgain()
    {
        using var client = await RegisterAsync();
        var (providerId, _) = await CreateProviderAsync(client);
        var gate = new TaskCompletionSource();
        server.Responder = r =>
        {
            gate.Task.Wait(TimeSpan.FromSeconds(20));
            return Answer(r);
        };

        // The plan request is held until the provider is gone, so the first task finds it deleted.
        var runId = (await client.StartRunAsync(new { task = Goal, provider_id = providerId })).Str("run_id");
        var deleted = await client.SendAsync(HttpMethod.Delete, $"providers/{providerId}");
        gate.SetResult();
        Assert.That(deleted.Status, Is.EqualTo(HttpStatusCode.NoContent), deleted.Text);
        var failed = await client.WaitForStatusAsync(runId, "failed");

        Assert.That(failed.Str("error"), Does.Contain(providerId).And.Contain("register it again"));
    }

    [Test]
    public async Task Run_OnTheManagedTrial_UsesTheConfiguredManagedModelAndKey()
    {
        using var client = await RegisterAsync();

        var runId = (await client.StartRunAsync(new { task = Goal, ask_me_about = new[] { "company details" } })).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "Details." }), HttpStatusCode.OK);
        var done = await client.WaitForStatusAsync(runId, "completed");
        var trialUsedUp = await client.SendAsync(HttpMethod.Post, "runs", new { task = Goal });

        Assert.Multiple(() =>
        {
            Assert.That(done.Str("planned_by"), Is.EqualTo("openai:managed-model"));
            Assert.That(done.Str("final_output"), Is.EqualTo("Final answer from the provider."));
            Assert.That(server.Requests.Select(r => r.Path), Is.All.EqualTo("/managed/v1/chat/completions"));
            Assert.That(server.Requests.Select(r => r.Header("Authorization")), Is.All.EqualTo("Bearer " + ManagedKey));
        });
        var problem = ApiAssert.Problem(trialUsedUp, HttpStatusCode.PaymentRequired, "trial_exhausted");
        Assert.That(problem.Str("detail"), Does.Contain("provider_id"));
    }

    async Task<(string ProviderId, string Key)> CreateProviderAsync(OrchflowClient client)
    {
        var key = "sk-local-" + Guid.NewGuid().ToString("N");
        var response = await client.SendAsync(HttpMethod.Post, "providers", new
        {
            provider = "openai_compatible",
            api_key = key,
            label = "Local server",
            model = "llama3.1:8b",
            endpoint = new Uri(server.BaseUri, "v1").ToString(),
        });
        return (ApiAssert.Json(response, HttpStatusCode.Created).Str("provider_id"), key);
    }

    /// <summary>Answers the way a cooperative model would: the plan to the planner, the final answer to the editor, an output per task.</summary>
    static FakeReply Answer(ChatRequestRecord request) =>
        request.System?.StartsWith("You are the planner of Orchflow", StringComparison.Ordinal) == true ? FakeReply.Chat(Plan)
        : IsSynthesis(request) ? FakeReply.Chat("Final answer from the provider.")
        : FakeReply.Chat($"Output of {TaskId(request)} from the provider.");

    static bool IsSynthesis(ChatRequestRecord request) =>
        request.System?.StartsWith("You are the editor", StringComparison.Ordinal) == true;

    static string? TaskId(ChatRequestRecord request) =>
        TaskHeading().Match(request.LastUser ?? "") is { Success: true } m ? m.Groups[1].Value : null;

    static (long In, long Out) Usage(JsonNode node) =>
        (node["usage"]!["input_tokens"]!.GetValue<long>(), node["usage"]!["output_tokens"]!.GetValue<long>());

    [GeneratedRegex(@"## Your task: (T\d+)")]
    private static partial Regex TaskHeading();
}
