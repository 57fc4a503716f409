using System.Net;
using Orchflow.Client;
using Orchflow.Tests.Support;
using ApiClient = Orchflow.Client.OrchflowClient;

namespace Orchflow.Tests.Client;

/// <summary>Orchflow.Client driven through the public docs' flows against the standalone host, over real HTTP.</summary>
[TestFixture]
public sealed class DotNetClientTests : HostedTests
{
    const string Goal = "Research 5 competitors, extract pricing, compare positioning, then propose our launch strategy.";
    const string Answer = "Company: a workflow API for AI apps. Brand voice: direct, useful, technical.";

    static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    async Task<ApiClient> NewClientAsync(HttpClient? http = null)
    {
        var account = await ApiClient.RegisterAsync(Host.BaseAddress, "Tarun", $"tarun-{Guid.NewGuid():N}@example.com");
        Assert.That(account.ApiKey, Does.StartWith("orch_"));
        return new ApiClient(Host.BaseAddress, account.ApiKey, http);
    }

    [Test]
    public async Task SeedFlow_AskMeAbout_WaitsForT1ThenCompletesWithTheAnswer()
    {
        using var client = await NewClientAsync();
        using var timeout = new CancellationTokenSource(Patience);

        var started = await client.StartRunAsync(new StartRunRequest(Goal) { AskMeAbout = ["company details"], RequireApproval = false },
            cancellationToken: timeout.Token);
        Assert.That(started.Status, Is.EqualTo(RunStatus.Queued));

        var waiting = await client.WaitForStatusAsync(started.RunId, [RunStatus.WaitingHuman], timeout.Token);
        var t1 = waiting.Subtasks["T1"];
        Assert.Multiple(() =>
        {
            Assert.That(waiting.WaitingOn, Is.EqualTo(new[] { "T1" }));
            Assert.That(t1.Kind, Is.EqualTo("human"));
            Assert.That(t1.State, Is.EqualTo(TaskState.WaitingHuman));
            Assert.That(t1.Prompt, Does.Contain("company details"));
        });

        var answered = await client.CompleteTaskAsync(started.RunId, "T1", CompleteTaskRequest.Answer(Answer), cancellationToken: timeout.Token);
        Assert.That(answered.State, Is.EqualTo(TaskState.Completed));

        var done = await client.WaitForEndAsync(started.RunId, timeout.Token);
        Assert.Multiple(() =>
        {
            Assert.That(done.Status, Is.EqualTo(RunStatus.Completed), done.Error);
            Assert.That(done.FinalOutput, Is.Not.Null.And.Not.Empty);
            Assert.That(done.Subtasks["T1"].Output, Is.EqualTo(Answer));
            Assert.That(done.Subtasks.Values.All(t => t.State == TaskState.Completed), Is.True);
        });
    }

    [Test]
    public async Task Keys_IssuedListedRevokedThenRunPurgedAndAccountClosed_EachAnswersAsDocumented()
    {
        using var client = await NewClientAsync();
        using var timeout = new CancellationTokenSource(Patience);

        var created = await client.CreateKeyAsync("CI pipeline", timeout.Token);
        using var second = new ApiClient(Host.BaseAddress, created.ApiKey);
        var listed = await second.ListKeysAsync(timeout.Token);
        await second.RevokeKeyAsync(created.KeyId, timeout.Token);
        var revoked = Assert.ThrowsAsync<OrchflowProblemException>(() => second.ListKeysAsync(timeout.Token));
        var last = Assert.ThrowsAsync<OrchflowProblemException>(() => client.RevokeKeyAsync(listed[0].KeyId, timeout.Token));
        var run = await client.StartRunAsync(new StartRunRequest(Goal) { AskMeAbout = ["company details"] }, cancellationToken: timeout.Token);
        await client.PurgeRunAsync(run.RunId, timeout.Token);
        var purged = Assert.ThrowsAsync<OrchflowProblemException>(() => client.GetRunAsync(run.RunId, timeout.Token));
        await client.CloseAccountAsync(timeout.Token);
        var closed = Assert.ThrowsAsync<OrchflowProblemException>(() => client.GetAccountAsync(timeout.Token));

        Assert.Multiple(() =>
        {
            Assert.That(created.KeyId, Does.StartWith("key_"));
            Assert.That(listed.Select(k => k.Label), Is.EqualTo(new[] { "Registration", "CI pipeline" }));
            Assert.That(listed[1].KeyHint, Is.EqualTo("…" + created.ApiKey[^4..]));
            Assert.That((int)revoked!.StatusCode, Is.EqualTo(401));
            Assert.That((int)last!.StatusCode, Is.EqualTo(409));
            Assert.That((int)purged!.StatusCode, Is.EqualTo(404));
            Assert.That((int)closed!.StatusCode, Is.EqualTo(401));
        });
    }

    [Test]
    public async Task ApprovalFlow_RequireApproval_EachDraftWaitsAndARejectedOneIsRedone()
    {
        using var client = await NewClientAsync();
        using var timeout = new CancellationTokenSource(Patience);
        var run = await client.StartRunAsync(new StartRunRequest(Goal) { AskMeAbout = ["company details"], RequireApproval = true },
            cancellationToken: timeout.Token);

        var rejected = false;
        var approvals = 0;
        while (true)
        {
            var current = await client.WaitForStatusAsync(run.RunId, [RunStatus.WaitingHuman, .. RunStatus.Ended], timeout.Token);
            if (current.HasEnded)
            {
                Assert.That(current.Status, Is.EqualTo(RunStatus.Completed), current.Error);
                break;
            }

            foreach (var task in current.Subtasks.Values.Where(t => t.State == TaskState.WaitingHuman))
            {
                var verdict = task.Kind == "human" ? CompleteTaskRequest.Answer(Answer)
                    : !rejected ? CompleteTaskRequest.Reject("Name the sources of each price.")
                    : CompleteTaskRequest.Approve();
                rejected |= verdict.Approved == false;
                approvals += verdict.Approved == true ? 1 : 0;
                var answered = await client.CompleteTaskAsync(run.RunId, task.TaskId, verdict, cancellationToken: timeout.Token);
                Assert.That(answered.State, Is.Not.EqualTo(TaskState.WaitingHuman));
            }
        }

        var events = await client.GetRunEventsAsync(run.RunId, limit: 1000, cancellationToken: timeout.Token);
        Assert.Multiple(() =>
        {
            Assert.That(rejected, Is.True);
            Assert.That(approvals, Is.GreaterThan(0));
            Assert.That(events.Events.Select(e => e.Type), Does.Contain("task.revision_requested"));
        });
    }

    [Test]
    public async Task EventStream_CutAfterTheFirstEvent_ResumesWithLastEventIdAndGivesEachEventOnce()
    {
        var cutter = new CuttingHandler();
        using var http = new HttpClient(cutter) { Timeout = Timeout.InfiniteTimeSpan };
        using var client = await NewClientAsync(http);
        using var timeout = new CancellationTokenSource(Patience);
        var run = await client.StartRunAsync(new StartRunRequest(Goal) { AskMeAbout = ["company details"] }, cancellationToken: timeout.Token);

        var seen = new List<RunEvent>();
        await foreach (var runEvent in client.StreamEventsAsync(run.RunId, cancellationToken: timeout.Token))
        {
            seen.Add(runEvent);
            if (runEvent.Type == "task.waiting_human" && runEvent.TaskId == "T1")
            {
                await client.CompleteTaskAsync(run.RunId, "T1", CompleteTaskRequest.Answer(Answer), cancellationToken: timeout.Token);
            }
        }

        var log = await client.GetRunEventsAsync(run.RunId, limit: 1000, cancellationToken: timeout.Token);
        Assert.Multiple(() =>
        {
            Assert.That(cutter.StreamRequests, Has.Count.GreaterThanOrEqualTo(2), "the stream was connected again after the cut");
            Assert.That(cutter.StreamRequests[0], Is.Null);
            Assert.That(cutter.StreamRequests[1], Is.EqualTo("1"), "the second connection resumed after event 1");
            Assert.That(seen.Select(e => e.Sequence), Is.EqualTo(log.Events.Select(e => e.Sequence)), "every event once, in order");
            Assert.That(seen[^1].Type, Is.EqualTo("run.completed"));
        });
    }

    [Test]
    public async Task StartRun_SameIdempotencyKeyTwice_StartsOneRun()
    {
        using var client = await NewClientAsync();
        var key = "client-" + Guid.NewGuid().ToString("N");

        var first = await client.StartRunAsync(new StartRunRequest(Goal), key);
        var second = await client.StartRunAsync(new StartRunRequest(Goal), key);
        var runs = await client.ListRunsAsync();

        Assert.Multiple(() =>
        {
            Assert.That(second.RunId, Is.EqualTo(first.RunId));
            Assert.That(runs.Total, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Errors_RefusedRequests_AreOneExceptionTypeWithTheProblemDetails()
    {
        using var client = await NewClientAsync();
        using var stranger = new ApiClient(Host.BaseAddress, "orch_" + new string('x', 43));

        var missing = Assert.ThrowsAsync<OrchflowProblemException>(() => client.GetRunAsync("run_0000000000000000000a"));
        var invalid = Assert.ThrowsAsync<OrchflowProblemException>(() => client.StartRunAsync(new StartRunRequest("")));
        var unknown = Assert.ThrowsAsync<OrchflowProblemException>(() => stranger.GetAccountAsync());

        Assert.Multiple(() =>
        {
            Assert.That(missing!.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(missing.Code, Is.EqualTo("not_found"));
            Assert.That(invalid!.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
            Assert.That(invalid.Problem.Errors, Does.ContainKey("task"));
            Assert.That(unknown!.Problem.Status, Is.EqualTo(401));
            Assert.That(unknown.Code, Is.EqualTo("unauthorized"));
        });
    }

    [Test]
    public async Task Routes_ReadsOfAFreshAccount_AreTyped()
    {
        using var client = await NewClientAsync();

        var account = await client.GetAccountAsync();
        var templates = await client.ListAgentTemplatesAsync();
        var health = await client.GetHealthAsync();
        var providers = await client.ListProvidersAsync();
        var webhooks = await client.ListWebhooksAsync();
        var servers = await client.ListToolServersAsync();

        Assert.Multiple(() =>
        {
            Assert.That(account.Name, Is.EqualTo("Tarun"));
            Assert.That(templates.Select(t => t.Name), Is.SupersetOf(new[] { "research", "analyst", "writer" }));
            Assert.That(health.Status, Is.EqualTo("ok"));
            Assert.That(providers, Is.Empty);
            Assert.That(webhooks, Is.Empty);
            Assert.That(servers, Is.Empty);
        });
    }
}
