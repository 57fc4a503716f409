using System.Text;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Infrastructure.Storage;
using static Orchflow.Tests.Infrastructure.StoredRuns;

namespace Orchflow.Tests.Infrastructure;

/// <summary>
/// Decided changes as the run store persists them (Azurite): long texts whole, exactly one of concurrent writers,
/// a change decided again when another instance moved the run, refusals that write nothing, and cancellation.
/// </summary>
[TestFixture]
public sealed class TableRunStoreChangeTests
{
    OrchflowTables tables = null!;
    TableRunStore store = null!;

    [OneTimeSetUp]
    public void CreateStore()
    {
        tables = StorageFixture.NewTables();
        store = new TableRunStore(tables, TimeProvider.System, []);
    }

    [TestCase(100_000)]
    [TestCase(700_000)]
    public async Task FinishAgent_LongMultiByteOutput_IsReadBackIdentically(int length)
    {
        var text = LongText(length, 'x');
        Assert.That(char.IsHighSurrogate(text[29_999]) && char.IsLowSurrogate(text[30_000]), "precondition: a surrogate pair straddles the first chunk boundary");
        Assert.That(Encoding.UTF8.GetByteCount(text), Is.GreaterThan(length), "precondition: multi-byte characters");
        var (account, runId) = await CreatePlannedAsync(store);

        var finished = await store.FinishAsync(account, runId, "T2", text);

        var fresh = (await new TableRunStore(tables, TimeProvider.System, []).GetAsync(account, runId, CancellationToken.None))!.Tasks[1];
        Assert.Multiple(() =>
        {
            Assert.That(finished!.Refusal, Is.Null);
            Assert.That(fresh.Output!.Length, Is.EqualTo(text.Length));
            Assert.That(string.Equals(fresh.Output, text, StringComparison.Ordinal), Is.True, "the output read back differs");
            Assert.That(string.Equals(finished.Task("T2")!.Output, text, StringComparison.Ordinal), Is.True, "the output the change returned differs");
            Assert.That(fresh.State, Is.EqualTo(TaskState.Completed));
        });
    }

    [Test]
    public async Task FinishAgent_LongDraftSentBackThenAShortOne_ReadsTheShortOne()
    {
        var (account, runId) = await CreatePlannedAsync(store);
        await store.FinishAsync(account, runId, "T2", LongText(100_000, 'x'), awaitApproval: true);
        await store.AnswerAsync(account, runId, "T2", new HumanAnswer(false, null, "Shorter."));

        await store.FinishAsync(account, runId, "T2", "short", awaitApproval: true);

        var fresh = (await new TableRunStore(tables, TimeProvider.System, []).GetAsync(account, runId, CancellationToken.None))!;
        Assert.Multiple(() =>
        {
            Assert.That(fresh.Tasks[1].Output, Is.EqualTo("short"));
            Assert.That(fresh.Tasks[1].State, Is.EqualTo(TaskState.WaitingHuman));
            Assert.That(fresh.Tasks[1].ReviewRound, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Answer_KeepADraft_LeavesItsTextAsItWas()
    {
        var (account, runId) = await CreatePlannedAsync(store);
        var draft = LongText(70_000, 'd');
        await store.FinishAsync(account, runId, "T2", draft, awaitApproval: true);

        var approved = await store.AnswerAsync(account, runId, "T2", new HumanAnswer(true, null, null));

        var fresh = (await new TableRunStore(tables, TimeProvider.System, []).GetAsync(account, runId, CancellationToken.None))!;
        Assert.Multiple(() =>
        {
            Assert.That(approved!.Task("T2")!.State, Is.EqualTo(TaskState.Completed));
            Assert.That(string.Equals(approved.Task("T2")!.Output, draft, StringComparison.Ordinal), Is.True, "the change returned the draft");
            Assert.That(string.Equals(fresh.Tasks[1].Output, draft, StringComparison.Ordinal), Is.True, "the draft read back");
        });
    }

    [Test]
    public async Task Complete_FinalOutputOver64KiB_IsReadBackWholeWithItsCostAdded()
    {
        var (account, runId) = await CreatePlannedAsync(store);
        await FinishEveryTaskAsync(store, account, runId);
        var final = LongText(90_000, 'f');
        Assert.That(final.Length * sizeof(char), Is.GreaterThan(64 * 1024), "precondition: over one property's limit");

        var completed = await store.CompleteAsync(account, runId, final, new TokenUsage(12, 34));

        var run = (await new TableRunStore(tables, TimeProvider.System, []).GetAsync(account, runId, CancellationToken.None))!;
        Assert.Multiple(() =>
        {
            Assert.That(completed!.Refusal, Is.Null);
            Assert.That(run.Status, Is.EqualTo(RunStatus.Completed));
            Assert.That(string.Equals(run.FinalOutput, final, StringComparison.Ordinal), Is.True, "final output differs");
            Assert.That(run.Usage, Is.EqualTo(new TokenUsage(13, 36)), "the plan's cost and the synthesis's (the agents' cost nothing here)");
        });
    }

    [TestCase(40)]
    [TestCase(100_000)]
    public async Task Answer_TwoConcurrentAnswersOnTwoInstances_ExactlyOneLandsAndItsTextStands(int length)
    {
        var (account, runId) = await CreatePlannedAsync(store);
        var answers = new[] { LongText(length, 'a'), LongText(length, 'b') };
        var instances = new[] { store, new TableRunStore(tables, TimeProvider.System, []) };
        await Task.WhenAll(instances.Select(i => i.GetAsync(account, runId, CancellationToken.None)));

        var results = await Task.WhenAll(answers.Select((answer, i) => instances[i].AnswerAsync(account, runId, "T1", new HumanAnswer(null, answer, null))));

        Assert.That(results.Count(r => r!.Refusal is null), Is.EqualTo(1), "exactly one answer lands");
        var winner = answers[Array.FindIndex(results, r => r!.Refusal is null)];
        var loser = results.Single(r => r!.Refusal is not null)!;
        var run = (await new TableRunStore(tables, TimeProvider.System, []).GetAsync(account, runId, CancellationToken.None))!;
        Assert.Multiple(() =>
        {
            Assert.That(loser.Refusal!.Kind, Is.EqualTo(RefusalKind.Conflict), "decided again on the task as the winner left it");
            Assert.That(string.Equals(run.Tasks[0].Output, winner, StringComparison.Ordinal), Is.True, "the store does not show the winner's text");
        });
        Assert.That(await ChunkRowsAsync(runId, "T1"), Has.Count.EqualTo(length > TextChunks.MaxChunkLength ? TextChunks.Split(winner).Count : 0),
            "the losing writer's chunks are deleted");
    }

    [Test]
    public async Task ChangeAsync_RunChangedByAnotherInstanceSinceThisOneReadIt_DecidesOnTheRunAsItIsNow()
    {
        var (account, runId) = await CreatePlannedAsync(store, start: false);
        var elsewhere = new TableRunStore(tables, TimeProvider.System, []);
        var before = (await store.GetAsync(account, runId, CancellationToken.None))!;

        await elsewhere.StartAsync(account, runId, [], ["T2"]);
        var started = await store.StartAsync(account, runId, ["T1"], []);
        var after = (await elsewhere.GetAsync(account, runId, CancellationToken.None))!;

        Assert.Multiple(() =>
        {
            Assert.That(started!.Refusal, Is.Null);
            Assert.That(after.Tasks.Select(t => t.State).Take(2), Is.EqualTo(new[] { TaskState.WaitingHuman, TaskState.Running }), "both writes stand");
            Assert.That(after.Status, Is.EqualTo(RunStatus.Running), "settled on every task, not only those this instance knew");
            Assert.That(after.Version, Is.EqualTo(before.Version + 2));
        });
    }

    [Test]
    public async Task FinishAgent_RunCancelledByAnotherInstanceWhileTheTaskRan_DropsTheOutput()
    {
        var (account, runId) = await CreatePlannedAsync(store);
        await store.GetAsync(account, runId, CancellationToken.None);

        await new TableRunStore(tables, TimeProvider.System, []).CancelAsync(account, runId);
        var finished = await store.FinishAsync(account, runId, "T2", "late");
        var after = (await store.GetAsync(account, runId, CancellationToken.None))!;

        Assert.Multiple(() =>
        {
            Assert.That(finished!.Refusal!.Kind, Is.EqualTo(RefusalKind.Superseded));
            Assert.That(after.Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(after.Tasks[1].State, Is.EqualTo(TaskState.Cancelled));
            Assert.That(after.Tasks[1].Output, Is.Null);
        });
    }

    [Test]
    public async Task Cancel_AnotherAccountsRun_IsNotFoundAndLeavesItRunning()
    {
        var (account, runId) = await CreatePlannedAsync(store);

        var outcome = await store.CancelAsync(Ids.NewAccountId(), runId);

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(outcome, Is.Null);
            Assert.That((await store.GetAsync(account, runId, CancellationToken.None))!.Status, Is.EqualTo(RunStatus.Running));
        });
    }

    [Test]
    public async Task Cancel_LiveRun_CancelsRunAndEveryUnfinishedTask_ThenChangesNothing()
    {
        var (account, runId) = await CreatePlannedAsync(store, taskCount: 5);
        await store.FinishAsync(account, runId, "T2", "Done.");

        var first = await store.CancelAsync(account, runId);
        var second = await store.CancelAsync(account, runId);

        var states = first!.Run.Tasks.ToDictionary(t => t.TaskId, t => t.State);
        Assert.Multiple(() =>
        {
            Assert.That(first.Refusal, Is.Null);
            Assert.That(first.Run.Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(states["T1"], Is.EqualTo(TaskState.Cancelled), "waiting_human task");
            Assert.That(states["T2"], Is.EqualTo(TaskState.Completed), "a finished task keeps its state");
            Assert.That(states["T3"], Is.EqualTo(TaskState.Cancelled), "pending task");
            Assert.That(second!.Decision, Is.SameAs(Decision.Unchanged));
            Assert.That(second.Run.Version, Is.EqualTo(first.Run.Version));
        });
    }

    [Test]
    public async Task Cancel_CompletedRun_IsRefusedAndKeepsItCompleted()
    {
        var (account, runId) = await CreatePlannedAsync(store);
        await FinishEveryTaskAsync(store, account, runId);
        await store.CompleteAsync(account, runId, "done");

        var outcome = await store.CancelAsync(account, runId);

        var run = (await store.GetAsync(account, runId, CancellationToken.None))!;
        Assert.Multiple(() =>
        {
            Assert.That(outcome!.Refusal!.Kind, Is.EqualTo(RefusalKind.Conflict));
            Assert.That(run.Status, Is.EqualTo(RunStatus.Completed));
            Assert.That(run.FinalOutput, Is.EqualTo("done"));
        });
    }

    [Test]
    public async Task Complete_TasksStillOpen_IsRefusedAndWritesNothing()
    {
        var (account, runId) = await CreatePlannedAsync(store);
        var before = (await store.GetAsync(account, runId, CancellationToken.None))!;

        var completed = await store.CompleteAsync(account, runId, "Too early.");

        Assert.Multiple(async () =>
        {
            Assert.That(completed!.Refusal!.Kind, Is.EqualTo(RefusalKind.Conflict));
            Assert.That((await store.GetAsync(account, runId, CancellationToken.None))!.Version, Is.EqualTo(before.Version));
        });
    }

    [Test]
    public async Task FinishToolCall_LeavesTheTaskRowAsItStands_AndTheCallReadsBackWithItsResult()
    {
        var (account, runId) = await CreatePlannedAsync(store);
        var ask = new ToolCallAsk("tc_0123456789abcdef", "m1", "fetch_url", """{"url":"https://example.com"}""", NeedsApproval: false, InputSchema: null);
        var asked = await store.ChangeAsync(account, runId,
            (run, now) => RunTransitions.AskTools(run, 0, "T2", 1, [ask], new TokenUsage(3, 4), now), CancellationToken.None);
        var taskRow = await tables.RunTasks.GetEntityAsync<TableEntity>(runId, "T2");

        var finished = await store.ChangeAsync(account, runId,
            (run, now) => RunTransitions.FinishToolCall(run, 0, "T2", ask.CallId, "Example Domain", null, now), CancellationToken.None);

        var fresh = (await new TableRunStore(tables, TimeProvider.System, []).GetAsync(account, runId, CancellationToken.None))!.Tasks[1];
        Assert.Multiple(async () =>
        {
            Assert.That(asked!.Refusal, Is.Null);
            Assert.That(finished!.Refusal, Is.Null);
            Assert.That((await tables.RunTasks.GetEntityAsync<TableEntity>(runId, "T2")).Value.ETag, Is.EqualTo(taskRow.Value.ETag),
                "the task's row is not written again for a change of its calls alone");
            Assert.That(fresh.ToolCalls.Single().State, Is.EqualTo(ToolCallState.Completed));
            Assert.That(fresh.ToolCalls.Single().Result, Is.EqualTo("Example Domain"));
            Assert.That(fresh.Usage, Is.EqualTo(new TokenUsage(3, 4)), "the ask's cost stays the task's");
        });
    }

    [Test]
    public async Task ChangeAsync_TasksOfOneRunEndingTogetherInOneProcess_EachLandsInOneBatchWithNoRead()
    {
        var requests = new CountedRequests();
        var counted = requests.Tables();
        await counted.EnsureCreatedAsync();
        var process = new TableRunStore(counted, TimeProvider.System, []);
        var (account, runId) = await CreatePlannedAsync(process, taskCount: 6, start: false);
        var parallel = new[] { "T2", "T3", "T4", "T5", "T6" };
        Assert.That(await process.StartAsync(account, runId, [], parallel), Has.Property(nameof(RunChange.Refusal)).Null);

        var sent = await requests.OfAsync(() => Task.WhenAll(parallel.Select(task =>
            process.FinishAsync(account, runId, task, $"The output of {task}."))));

        var fresh = (await new TableRunStore(counted, TimeProvider.System, []).GetAsync(account, runId, CancellationToken.None))!;
        Assert.Multiple(() =>
        {
            Assert.That(sent, Is.EqualTo(parallel.Length), "one batch each: none refused on its ETag, no partition read again");
            Assert.That(fresh.Tasks.Where(t => parallel.Contains(t.TaskId)).Select(t => t.Output),
                Is.EqualTo(parallel.Select(t => $"The output of {t}.")));
        });
    }

    [Test]
    public async Task StartAgent_PendingTask_RunsItAndTheRun()
    {
        var (account, runId) = await CreatePlannedAsync(store, start: false);

        var started = await store.ChangeAsync(account, runId, (run, now) => RunTransitions.StartAgent(run, 0, "T2", now), CancellationToken.None);
        var run = (await store.GetAsync(account, runId, CancellationToken.None))!;

        Assert.Multiple(() =>
        {
            Assert.That(started!.Refusal, Is.Null);
            Assert.That(run.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(run.Tasks.Select(t => (t.TaskId, t.State)), Is.EqualTo(new[]
            {
                ("T1", TaskState.Pending), ("T2", TaskState.Running), ("T3", TaskState.Pending), ("T4", TaskState.Pending),
            }));
            Assert.That(run.Tasks[1].StartedAt, Is.Not.Null);
        });
    }

    [Test]
    public async Task StartAgent_TaskAlreadyPastPending_WritesNothing()
    {
        // An activity delivered again after its draft went to review: the draft stays where it is, and so does the run.
        var (account, runId) = await CreatePlannedAsync(store);
        await store.FinishAsync(account, runId, "T2", "A draft.", awaitApproval: true);
        var before = (await store.GetAsync(account, runId, CancellationToken.None))!;

        var started = await store.ChangeAsync(account, runId, (run, now) => RunTransitions.StartAgent(run, 0, "T2", now), CancellationToken.None);
        var after = (await store.GetAsync(account, runId, CancellationToken.None))!;

        Assert.Multiple(() =>
        {
            Assert.That(started!.Decision, Is.SameAs(Decision.Unchanged), "not refused: the activity goes on and finds its task not running");
            Assert.That(after.Version, Is.EqualTo(before.Version));
            Assert.That(after.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(after.Tasks[1].State, Is.EqualTo(TaskState.WaitingHuman));
        });
    }

    [Test]
    public async Task StartAgent_RunCancelledOrRunByAnotherAttempt_IsRefusedAndWritesNothing()
    {
        var (account, cancelled) = await CreatePlannedAsync(store, start: false);
        await store.CancelAsync(account, cancelled);
        var (owner, other) = await CreatePlannedAsync(store, start: false);
        var before = (await store.GetAsync(owner, other, CancellationToken.None))!;

        var onCancelled = await store.ChangeAsync(account, cancelled, (run, now) => RunTransitions.StartAgent(run, 0, "T2", now), CancellationToken.None);
        var byAnotherAttempt = await store.ChangeAsync(owner, other, (run, now) => RunTransitions.StartAgent(run, 1, "T2", now), CancellationToken.None);

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(onCancelled!.Refusal!.Kind, Is.EqualTo(RefusalKind.Superseded));
            Assert.That((await store.GetAsync(account, cancelled, CancellationToken.None))!.Tasks[1].State, Is.EqualTo(TaskState.Cancelled));
            Assert.That(byAnotherAttempt!.Refusal!.Kind, Is.EqualTo(RefusalKind.Superseded));
            Assert.That((await store.GetAsync(owner, other, CancellationToken.None))!.Version, Is.EqualTo(before.Version));
        });
    }

    async Task<List<string>> ChunkRowsAsync(string runId, string key)
    {
        var rows = new List<string>();
        await foreach (var row in tables.RunTasks.QueryAsync<TableEntity>(e => e.PartitionKey == runId, select: ["RowKey"]))
        {
            if (row.RowKey.StartsWith(key + "~", StringComparison.Ordinal))
            {
                rows.Add(row.RowKey);
            }
        }

        return rows;
    }
}
