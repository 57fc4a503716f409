using System.Net;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>
/// Requests that race for one thing: fifty answers to one waiting task, a cancel against an answer, a crowd of
/// starts against the last trial run. Exactly one may win each race, the store must keep the winner's word, and a
/// run must end in a state docs/api.md's "States" allows.
/// </summary>
[TestFixture]
// Ahead of the fixtures on the default host, so that they run one after another (PublicDocsFlowTests next) and share it.
[Order(1)]
public sealed class RaceTests : HostedTests
{
    const int TrialRuns = 3;

    static readonly string[] Ended = ["completed", "failed", "cancelled"];

    protected override IReadOnlyDictionary<string, string> HostSettings =>
        new Dictionary<string, string> { ["Orchflow__TrialRuns"] = TrialRuns.ToString() };

    [Test]
    public async Task CompleteTask_FiftyConcurrentAnswers_ExactlyOne200And49ConflictsAndTheWinnersOutputIsStored()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);

        // Every other answer is longer than one table property holds, so losers' chunk rows are written and must go.
        var answers = Enumerable.Range(0, 50)
            .Select(i => i % 2 == 0 ? $"Answer {i}: short." : ($"Answer {i}: long. " + string.Concat(Enumerable.Repeat($"Context line {i}. ", 2000)))[..31_000])
            .ToList();

        var responses = await Task.WhenAll(answers.Select(a => Task.Run(() => client.CompleteAsync(runId, "T1", new { output = a }))));

        var winners = responses.Select((r, i) => (Response: r, Index: i)).Where(x => x.Response.Status == HttpStatusCode.OK).ToList();
        Assert.That(winners, Has.Count.EqualTo(1), string.Join("\n", responses.Select(r => $"{(int)r.Status} {r.Text[..Math.Min(r.Text.Length, 200)]}")));
        var winner = answers[winners[0].Index];
        Assert.Multiple(() =>
        {
            Assert.That(responses.Count(r => r.Status == HttpStatusCode.Conflict), Is.EqualTo(49));
            foreach (var loser in responses.Where(r => r.Status == HttpStatusCode.Conflict))
            {
                ApiAssert.Problem(loser, HttpStatusCode.Conflict, "conflict");
            }

            Assert.That(winners[0].Response.Json!.Str("output"), Is.EqualTo(winner), "the 200 shows the winner's own answer");
        });

        var answered = await client.GetRunAsync(runId);
        var done = await client.WaitForStatusAsync(runId, "completed");
        var chunkRows = await RowsAsync("RunTasks", runId, "T1~");
        Assert.Multiple(() =>
        {
            Assert.That(answered["subtasks"]!["T1"]!.Str("output"), Is.EqualTo(winner), "stored right after the race");
            Assert.That(done["subtasks"]!["T1"]!.Str("output"), Is.EqualTo(winner), "stored once the run completed");
            Assert.That(done.Str("final_output"), Does.Contain(winner[..(winner.IndexOf(':', StringComparison.Ordinal) + 1)]));
            Assert.That(chunkRows, Has.Count.EqualTo(winner.Length > 30_000 ? (winner.Length + 29_999) / 30_000 : 0),
                "only the winner's long-text rows are left beside the task");
        });
    }

    [Test]
    public async Task CancelAndComplete_ConcurrentlyOnAWaitingRun_LeaveAConsistentRunEveryTime()
    {
        var outcomes = new List<string>();
        var failures = new List<string>();
        // The interleaving that loses an answer is a few milliseconds wide; a dozen tries meet it most of the time.
        for (var attempt = 0; attempt < 12; attempt++)
        {
            using var client = await RegisterAsync();
            var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
            var answer = $"Company details, attempt {attempt}.";

            // Both at once, or one of them a few milliseconds ahead (the cancel on even attempts, the answer on odd
            // ones), so that the answer lands at different points of the cancel's writes.
            var lead = TimeSpan.FromMilliseconds(attempt / 2 % 5 * 2);
            var cancel = Task.Run(async () =>
            {
                await Task.Delay(attempt % 2 == 0 ? TimeSpan.Zero : lead);
                return await client.SendAsync(HttpMethod.Delete, $"runs/{runId}");
            });
            var complete = Task.Run(async () =>
            {
                await Task.Delay(attempt % 2 == 1 ? TimeSpan.Zero : lead);
                return await client.CompleteAsync(runId, "T1", new { output = answer });
            });
            await Task.WhenAll(cancel, complete);
            var (cancelled, completed) = (cancel.Result.Status, complete.Result.Status);

            var ended = await client.WaitForRunAsync(runId, r => Ended.Contains(r.Str("status")) &&
                ApiAssert.TaskStates(r).All(t => !RunScenarios.Unfinished.Contains(t.State)), TimeSpan.FromSeconds(60));
            // Nothing more can change once the host has nothing left to do: no turn, activity or delivery pending.
            await TestHosts.WaitUntilAtRestAsync(Host);
            var settled = await client.GetRunAsync(runId);
            outcomes.Add($"attempt {attempt}: cancel {(int)cancelled}, complete {(int)completed} → {settled.Str("status")}, T1 {ApiAssert.TaskState(settled, "T1")}");
            failures.AddRange(Inconsistencies(attempt, cancelled, completed, answer, ended, settled));
        }

        await TestContext.Out.WriteLineAsync(string.Join("\n", outcomes));
        Assert.That(failures, Is.Empty, string.Join("\n", failures) + "\n\nOutcomes:\n" + string.Join("\n", outcomes));
    }

    /// <summary>What is wrong with a run after a cancel and an answer raced, given what each was told.</summary>
    static IEnumerable<string> Inconsistencies(int attempt, HttpStatusCode cancel, HttpStatusCode complete, string answer, JsonNode ended, JsonNode settled)
    {
        var status = settled.Str("status");
        var states = ApiAssert.TaskStates(settled);
        var t1 = settled["subtasks"]!["T1"]!;
        var where = $"attempt {attempt} (cancel {(int)cancel}, complete {(int)complete}, run {status}): ";
        if (cancel is not (HttpStatusCode.OK or HttpStatusCode.Conflict) || complete is not (HttpStatusCode.OK or HttpStatusCode.Conflict))
        {
            yield return where + "each request gets 200 or 409";
        }

        if (cancel == HttpStatusCode.Conflict && complete == HttpStatusCode.Conflict)
        {
            yield return where + "both were refused; one of them must win";
        }

        if (status != ended.Str("status"))
        {
            yield return where + $"the run ended {ended.Str("status")}, then became {status}";
        }

        if (cancel == HttpStatusCode.OK && status != "cancelled")
        {
            yield return where + "the cancel was accepted, so the run must end cancelled";
        }

        if (cancel == HttpStatusCode.Conflict && status != "completed")
        {
            yield return where + "the cancel was refused as too late, so the run must have completed";
        }

        if (complete == HttpStatusCode.OK && (t1.Str("state") != "completed" || t1["output"]?.GetValue<string>() != answer))
        {
            yield return where + $"the answer was accepted (200), so T1 must stay completed with it; it is {t1.Str("state")} with output " +
                         $"'{t1["output"]?.GetValue<string>()}'";
        }

        if (complete == HttpStatusCode.Conflict && t1["output"]?.GetValue<string>() == answer)
        {
            yield return where + "the answer was refused (409) but T1 holds it";
        }

        if (states.Any(s => RunScenarios.Unfinished.Contains(s.State)))
        {
            yield return where + "an ended run has unfinished tasks: " + string.Join(", ", states.Select(s => $"{s.TaskId} {s.State}"));
        }

        if (settled["waiting_on"]!.AsArray().Count > 0)
        {
            yield return where + "an ended run still waits on " + settled["waiting_on"]!.ToJsonString();
        }

        if (status == "completed" && (states.Any(s => s.State != "completed") || settled["final_output"]?.GetValue<string>() is not { Length: > 0 }))
        {
            yield return where + "a completed run has a task that is not completed or no final output";
        }
    }

    [Test]
    public async Task StartRun_TwentyConcurrentStartsOnTheLastTrialRun_ExactlyOne202AndNoTrialLeft()
    {
        var (client, accountId, _) = await RestingAccounts.RegisterAsync(Host.BaseAddress);
        using (client)
        {
            for (var i = 1; i < TrialRuns; i++)
            {
                await client.StartRunAsync(new { task = $"Research market {i}." });
            }

            var responses = await Task.WhenAll(Enumerable.Range(0, 20)
                .Select(i => Task.Run(() => client.SendAsync(HttpMethod.Post, "runs", new { task = $"Research market {i}. Draft a summary." }))));

            var trialsLeft = (await RowsAsync("Accounts", "account", accountId)).Single().GetInt32("TrialRunsRemaining");
            var list = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "runs?limit=100"), HttpStatusCode.OK);
            Assert.Multiple(() =>
            {
                Assert.That(responses.Count(r => r.Status == HttpStatusCode.Accepted), Is.EqualTo(1),
                    string.Join("\n", responses.Select(r => $"{(int)r.Status} {r.Text[..Math.Min(r.Text.Length, 200)]}")));
                foreach (var refused in responses.Where(r => r.Status != HttpStatusCode.Accepted))
                {
                    ApiAssert.Problem(refused, HttpStatusCode.PaymentRequired, "trial_exhausted");
                }

                Assert.That(trialsLeft, Is.Zero, "the stored trial count");
                Assert.That(list["total"]!.GetValue<int>(), Is.EqualTo(TrialRuns), "runs the account has");
            });
        }
    }

    /// <summary>Rows of one of this host's tables in a partition whose row key starts with the prefix.</summary>
    async Task<List<TableEntity>> RowsAsync(string table, string partition, string rowKeyPrefix)
    {
        var client = new TableClient(TestEnvironment.Azurite.ConnectionString, Host.TablePrefix + table);
        var rows = new List<TableEntity>();
        await foreach (var row in client.QueryAsync<TableEntity>(e => e.PartitionKey == partition))
        {
            if (row.RowKey.StartsWith(rowKeyPrefix, StringComparison.Ordinal))
            {
                rows.Add(row);
            }
        }

        return rows;
    }
}
