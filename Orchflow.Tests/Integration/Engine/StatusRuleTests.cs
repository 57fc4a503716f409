using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Engine;

/// <summary>
/// A run read every 20 ms while people review it, each read checked against the status rule (<see cref="StatusRule"/>):
/// drafts of two parallel agents and of the writer after them, each sent back once and redone; a plan sent back, then
/// approved; a run cancelled while a draft waits, then retried. Model calls take 300 ms, so every state lasts long
/// enough to be read.
/// </summary>
[TestFixture]
public sealed class StatusRuleTests : HostedTests
{
    const string Goal = "Research competitor pricing and positioning, then draft a launch plan.";

    /// <summary>Two agents side by side, and the writer once both are done.</summary>
    static readonly object ParallelThenWriter = new
    {
        tasks = new object[]
        {
            new { task_id = "T1", name = "Research competitor pricing", kind = "agent", agent = "research", depends_on = Array.Empty<string>() },
            new { task_id = "T2", name = "Compare positioning", kind = "agent", agent = "analyst", depends_on = Array.Empty<string>() },
            new { task_id = "T3", name = "Draft the launch plan", kind = "agent", agent = "writer", depends_on = new[] { "T1", "T2" } },
        },
    };

    static readonly object SendBack = new { approved = false, feedback = "Name your sources." };

    protected override IReadOnlyDictionary<string, string> HostSettings => PacedHost.Settings;

    [Test]
    public async Task Poll_DraftsOfParallelAgentsAndTheWriterEachSentBackOnce_EveryReadKeepsTheRule()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = Goal, plan = ParallelThenWriter, require_approval = true })).Str("run_id");
        var driver = new ApprovalDriver(client, runId) { VerdictFor = (_, draft) => draft == 1 ? SendBack : null };

        var reads = await WhileWatchedAsync(client, runId, () => driver.DriveToCompletionAsync());

        Assert.Multiple(() =>
        {
            Assert.That(driver.Sent.Count(s => s.Verdict == SendBack), Is.EqualTo(3), "each task's first draft was sent back");
            Assert.That(reads, Is.GreaterThan(20), "the run was read while it moved");
        });
    }

    [Test]
    public async Task Poll_PlanSentBackThenApproved_EveryReadKeepsTheRule()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = Goal, require_plan_approval = true })).Str("run_id");

        var reads = await WhileWatchedAsync(client, runId, async () =>
        {
            await client.WaitForRunAsync(runId, r => RunGraph.WaitingOn(r).Contains("plan"));
            ApiAssert.Json(await ReviewAsync(client, runId, new { approved = false, feedback = "Add a step to check the legal terms." }), HttpStatusCode.OK);
            await client.WaitForRunAsync(runId, r => RunGraph.WaitingOn(r).Contains("plan"));
            ApiAssert.Json(await ReviewAsync(client, runId, new { approved = true }), HttpStatusCode.OK);
            return await client.WaitForStatusAsync(runId, "completed");
        });

        Assert.That(reads, Is.GreaterThan(20), "the run was read while it moved");
    }

    [Test]
    public async Task Poll_CancelledWhileADraftWaitsThenRetried_EveryReadKeepsTheRule()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = Goal, plan = ParallelThenWriter, require_approval = true })).Str("run_id");

        var reads = await WhileWatchedAsync(client, runId, async () =>
        {
            await client.WaitForRunAsync(runId, r => RunGraph.Tasks(r).Any(t => RunGraph.State(t) == "waiting_human"));
            ApiAssert.Json(await client.SendAsync(HttpMethod.Delete, $"runs/{runId}"), HttpStatusCode.OK);
            await client.WaitForStatusAsync(runId, "cancelled");
            ApiAssert.Json(await client.SendAsync(HttpMethod.Post, $"runs/{runId}/retry"), HttpStatusCode.Accepted);
            return await new ApprovalDriver(client, runId).DriveToCompletionAsync();
        });

        Assert.That(reads, Is.GreaterThan(20), "the run was read while it moved");
    }

    static Task<ApiResponse> ReviewAsync(OrchflowClient client, string runId, object body) =>
        client.SendAsync(HttpMethod.Post, $"runs/{runId}/plan/review", body);

    /// <summary>
    /// Does the work while another reader reads the run every 20 ms until the work is done; each read is checked by the
    /// client, so the first that breaks the rule fails the test with the run as read. Answers how many reads were made.
    /// </summary>
    static async Task<int> WhileWatchedAsync(OrchflowClient client, string runId, Func<Task<JsonNode>> work)
    {
        using var done = new CancellationTokenSource();
        var reads = 0;
        var watcher = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                await client.GetRunAsync(runId);
                reads++;
                await Task.Delay(20);
            }
        });

        var working = work();
        try
        {
            // Whichever fails first fails the test: a read that broke the rule, or the work.
            await await Task.WhenAny(watcher, working);
        }
        finally
        {
            await done.CancelAsync();
        }

        await Task.WhenAll(watcher, working);
        return reads;
    }
}
