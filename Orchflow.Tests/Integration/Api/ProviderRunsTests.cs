using System.Net;
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
public sealed class ProviderRunsTests : HostedModelTests
{
    const string ManagedKey = "managed-key-5c1b7e0d9a";
    const string Goal = "Research competitors and draft a launch strategy.";

    /// <summary>The person's context first, research alongside it, writing last.</summary>
    protected override CooperativeModel Cooperative { get; } = new(CooperativeModel.HumanResearchWriterPlan);

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__TrialRuns"] = "1",
        ["Orchflow__Models__RetryBaseDelayMs"] = "20",
        ["Orchflow__Models__MaxAttempts"] = "3",
        ["Orchflow__ManagedModel__Provider"] = "openai",
        ["Orchflow__ManagedModel__Model"] = "managed-model",
        ["Orchflow__ManagedModel__Endpoint"] = new Uri(ModelServer.BaseUri, "managed/v1").ToString(),
        ["Orchflow__ManagedModel__ApiKey"] = ManagedKey,
    };

    [Test]
    public async Task Run_OnOpenAICompatibleProvider_PlanOutputsUsageAndFinalOutputComeFromTheProvider()
    {
        using var client = await RegisterAsync();
        var (providerId, key) = await client.CreateProviderAsync(new Uri(ModelServer.BaseUri, "v1"));

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

        var requests = ModelServer.Requests.Where(r => r.Path == "/v1/chat/completions").ToList();
        var writer = requests.Single(r => r.TaskId == "T3");
        Assert.Multiple(() =>
        {
            Assert.That(RunGraph.Tasks(waiting).Select(RunGraph.Id), Is.EqualTo(new[] { "T1", "T2", "T3" }), "the provider's plan");
            Assert.That(done.Str("planned_by"), Is.EqualTo("openai_compatible:llama3.1:8b"));
            Assert.That(RunGraph.Task(done, "T2").Str("output"), Is.EqualTo(CooperativeModel.OutputOf("T2")));
            Assert.That(RunGraph.Task(done, "T3").Str("output"), Is.EqualTo(CooperativeModel.OutputOf("T3")));
            Assert.That(done.Str("final_output"), Is.EqualTo(CooperativeModel.FinalAnswer));

            // Plan, two agent tasks and the synthesis: four calls at 11 tokens in and 7 out each.
            Assert.That(RunGraph.Usage(RunGraph.Task(done, "T1")), Is.EqualTo((0L, 0L)));
            Assert.That(RunGraph.Usage(RunGraph.Task(done, "T2")), Is.EqualTo((11L, 7L)));
            Assert.That(RunGraph.Usage(RunGraph.Task(done, "T3")), Is.EqualTo((11L, 7L)));
            Assert.That(RunGraph.Usage(done), Is.EqualTo((44L, 28L)));

            Assert.That(requests, Has.Count.EqualTo(4));
            Assert.That(requests.Select(r => r.Header("Authorization")), Is.All.EqualTo("Bearer " + key));
            Assert.That(requests.Select(r => r.Model), Is.All.EqualTo("llama3.1:8b"));
            Assert.That(writer.LastUser, Does.Contain("We build workflow APIs. Voice: direct.").And.Contain(CooperativeModel.OutputOf("T2")));
        });
    }

    [Test]
    public async Task Run_ProviderRejectsTheKey_FailsAfterOneRequestTellingToRegisterTheKeyAgain()
    {
        ModelServer.Responder = _ => FakeReply.Unauthorized();
        using var client = await RegisterAsync();
        var (providerId, _) = await client.CreateProviderAsync(new Uri(ModelServer.BaseUri, "v1"));

        var runId = (await client.StartRunAsync(new { task = Goal, provider_id = providerId })).Str("run_id");
        var failed = await client.WaitForStatusAsync(runId, "failed");

        Assert.Multiple(() =>
        {
            Assert.That(failed.Str("error"), Does.Contain("rejected the key").And.Contain("Register the provider again"));
            Assert.That(ModelServer.Requests, Has.Count.EqualTo(1), "a rejected key is tried once, not by every retry layer");
        });
    }

    [Test]
    public async Task Run_ProviderFailsATaskOnEveryAttempt_FailsNamingTheTaskAndStatusAfterThreeRequests()
    {
        ModelServer.Responder = r => r.TaskId == "T2" ? FakeReply.ServerError(503) : Cooperative.Answer(r);
        using var client = await RegisterAsync();
        var (providerId, _) = await client.CreateProviderAsync(new Uri(ModelServer.BaseUri, "v1"));

        var runId = (await client.StartRunAsync(new { task = Goal, provider_id = providerId, ask_me_about = new[] { "company details" } })).Str("run_id");
        var failed = await client.WaitForStatusAsync(runId, "failed");

        Assert.Multiple(() =>
        {
            Assert.That(failed.Str("error"), Does.StartWith("Task T2 failed:").And.Contain("HTTP 503").And.Contain("all 3 attempts"));
            Assert.That(RunGraph.Task(failed, "T2").Str("state"), Is.EqualTo("failed"));
            Assert.That(ModelServer.Requests.Count(r => r.TaskId == "T2"), Is.EqualTo(3), "Orchflow:Models:MaxAttempts, not multiplied by activity retries");
        });
    }

    [Test]
    public async Task Run_ProviderRateLimitsATaskOnce_WaitsForRetryAfterAndCompletes()
    {
        var limited = 0;
        ModelServer.Responder = r => r.TaskId == "T2" && Interlocked.Increment(ref limited) == 1 ? FakeReply.RateLimited(1) : Cooperative.Answer(r);
        using var client = await RegisterAsync();
        var (providerId, _) = await client.CreateProviderAsync(new Uri(ModelServer.BaseUri, "v1"));

        var runId = (await client.StartRunAsync(new { task = Goal, provider_id = providerId })).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "Details." }), HttpStatusCode.OK);
        var done = await client.WaitForStatusAsync(runId, "completed");

        Assert.Multiple(() =>
        {
            Assert.That(RunGraph.Task(done, "T2").Str("output"), Is.EqualTo(CooperativeModel.OutputOf("T2")));
            Assert.That(ModelServer.Requests.Count(r => r.TaskId == "T2"), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task Run_ProviderAnswersTheSynthesisWithGarbage_FailsSayingTheAnswerCouldNotBeRead()
    {
        ModelServer.Responder = r => r.IsSynthesis ? FakeReply.Malformed() : Cooperative.Answer(r);
        using var client = await RegisterAsync();
        var (providerId, _) = await client.CreateProviderAsync(new Uri(ModelServer.BaseUri, "v1"));

        var runId = (await client.StartRunAsync(new { task = Goal, provider_id = providerId })).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "Details." }), HttpStatusCode.OK);
        var failed = await client.WaitForStatusAsync(runId, "failed");

        Assert.Multiple(() =>
        {
            Assert.That(failed.Str("error"), Does.StartWith("Synthesis failed:").And.Contain("could not be read as a chat completion"));
            Assert.That(ModelServer.Requests.Count(r => r.IsSynthesis), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Run_ProviderDeletedBeforeItsRunPlans_FailsTellingToRegisterItAgain()
    {
        using var client = await RegisterAsync();
        var (providerId, _) = await client.CreateProviderAsync(new Uri(ModelServer.BaseUri, "v1"));
        var gate = new TaskCompletionSource();
        ModelServer.Responder = r =>
        {
            gate.Task.Wait(TimeSpan.FromSeconds(20));
            return Cooperative.Answer(r);
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
            Assert.That(done.Str("final_output"), Is.EqualTo(CooperativeModel.FinalAnswer));
            Assert.That(ModelServer.Requests.Select(r => r.Path), Is.All.EqualTo("/managed/v1/chat/completions"));
            Assert.That(ModelServer.Requests.Select(r => r.Header("Authorization")), Is.All.EqualTo("Bearer " + ManagedKey));
        });
        var problem = ApiAssert.Problem(trialUsedUp, HttpStatusCode.PaymentRequired, "trial_exhausted");
        Assert.That(problem.Str("detail"), Does.Contain("provider_id"));
    }
}
