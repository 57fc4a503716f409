using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>The run projection on Table Storage (Azurite): round trips, long texts, concurrency and cancellation.</summary>
[TestFixture]
public sealed class TableRunStoreTests
{
    OrchflowTables tables = null!;
    TableRunStore store = null!;

    [OneTimeSetUp]
    public void CreateStore()
    {
        tables = StorageFixture.NewTables();
        store = new TableRunStore(tables, TimeProvider.System, []);
    }

    [Test]
    public async Task CreateAsync_ThenGetAsync_ReturnsTheSameRun()
    {
        var account = NewAccountId();
        var run = NewRun(account, DateTimeOffset.UtcNow);
        await store.CreateAsync(run, CancellationToken.None);

        var read = await store.GetAsync(account, run.RunId, CancellationToken.None);

        Assert.That(read, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(read!.RunId, Is.EqualTo(run.RunId));
            Assert.That(read.AccountId, Is.EqualTo(account));
            Assert.That(read.Status, Is.EqualTo(RunStatus.Queued));
            Assert.That(JsonSerializer.Serialize(read.Definition), Is.EqualTo(JsonSerializer.Serialize(run.Definition)));
            Assert.That(read.CreatedAt, Is.EqualTo(run.CreatedAt).Within(TimeSpan.FromMilliseconds(1)));
            Assert.That(read.UpdatedAt, Is.EqualTo(run.UpdatedAt).Within(TimeSpan.FromMilliseconds(1)));
            Assert.That(read.Tasks, Is.Empty);
            Assert.That(read.FinalOutput, Is.Null);
            Assert.That(read.Usage, Is.EqualTo(TokenUsage.Zero));
        });
    }

    [Test]
    public async Task GetAsync_OtherAccountOrUnknownRun_ReturnsNull()
    {
        var account = NewAccountId();
        var run = NewRun(account, DateTimeOffset.UtcNow);
        await store.CreateAsync(run, CancellationToken.None);

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await store.GetAsync(NewAccountId(), run.RunId, CancellationToken.None), Is.Null);
            Assert.That(await store.GetAsync(account, Ids.NewRunId(DateTimeOffset.UtcNow), CancellationToken.None), Is.Null);
        });
    }

    [Test]
    public async Task GetAsync_PlannedRun_IsReadFromItsPartitionAloneAndOnlyByItsOwner()
    {
        var (account, runId) = await CreatePlannedRunAsync();
        var expected = await store.GetAsync(account, runId, CancellationToken.None);

        // With the run row gone, only the partition can answer: the read must not need the run row.
        await tables.Runs.DeleteEntityAsync(account, runId);
        var fromPartition = await store.GetAsync(account, runId, CancellationToken.None);
        var byAnother = await store.GetAsync(NewAccountId(), runId, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(Describe(fromPartition), Is.EqualTo(Describe(expected)));
            Assert.That(fromPartition!.PlannedBy, Is.EqualTo("test"));
            Assert.That(fromPartition.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(byAnother, Is.Null);
        });
    }

    [Test]
    public async Task GetAsync_RunWithoutItsPartitionHead_FallsBackToTheRunRow()
    {
        var (account, runId) = await CreatePlannedRunAsync();
        var expected = await store.GetAsync(account, runId, CancellationToken.None);

        await tables.RunTasks.DeleteEntityAsync(runId, "~run");
        var fromRunRow = await store.GetAsync(account, runId, CancellationToken.None);
        var byAnother = await store.GetAsync(NewAccountId(), runId, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(Describe(fromRunRow), Is.EqualTo(Describe(expected)));
            Assert.That(byAnother, Is.Null);
        });
    }

    /// <summary>Everything a run read shows, as one comparable string.</summary>
    static string Describe(RunRecord? run) => run is null
        ? "null"
        : JsonSerializer.Serialize(run with { Tasks = [] }) + JsonSerializer.Serialize(run.Tasks.Select(t => t with { ETag = null }));

    [Test]
    public async Task SavePlanAsync_WritesPendingTasksInOrder_AndKeepsTheRunPlanning()
    {
        var (account, runId) = await CreatePlannedRunAsync(taskCount: 11, start: false);

        var run = await store.GetAsync(account, runId, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(run!.Status, Is.EqualTo(RunStatus.Planning), "its first tasks starting make it running or waiting");
            Assert.That(run.PlannedBy, Is.EqualTo("test"));
            Assert.That(run.Tasks.Select(t => t.TaskId), Is.EqualTo(Enumerable.Range(1, 11).Select(TaskIds.Of)));
            Assert.That(run.Tasks.Select(t => t.State), Is.All.EqualTo(TaskState.Pending));
            Assert.That(run.Tasks[0].Kind, Is.EqualTo(TaskKind.Human));
            Assert.That(run.Tasks[0].Prompt, Is.EqualTo("What do you know?"));
            Assert.That(run.Tasks[2].DependsOn, Is.EqualTo(new[] { "T1", "T2" }));
        });
    }

    [TestCase(100_000)]
    [TestCase(700_000)]
    public async Task TryReplaceTaskAsync_LongMultiByteOutput_IsReadBackIdentically(int length)
    {
        var text = LongText(length, 'x');
        Assert.That(char.IsHighSurrogate(text[29_999]) && char.IsLowSurrogate(text[30_000]), "precondition: a surrogate pair straddles the first chunk boundary");
        Assert.That(Encoding.UTF8.GetByteCount(text), Is.GreaterThan(length), "precondition: multi-byte characters");
        var (account, runId) = await CreatePlannedRunAsync();
        var task = (await store.GetTaskAsync(runId, "T2", CancellationToken.None))!;

        var replaced = await store.TryReplaceTaskAsync(runId, task with { Output = text, State = TaskState.Completed }, CancellationToken.None);

        Assert.That(replaced, Is.True);
        var viaRun = (await store.GetAsync(account, runId, CancellationToken.None))!.Tasks.Single(t => t.TaskId == "T2");
        var viaTask = (await store.GetTaskAsync(runId, "T2", CancellationToken.None))!;
        Assert.Multiple(() =>
        {
            Assert.That(viaRun.Output!.Length, Is.EqualTo(text.Length));
            Assert.That(string.Equals(viaRun.Output, text, StringComparison.Ordinal), Is.True, "GetAsync output differs");
            Assert.That(string.Equals(viaTask.Output, text, StringComparison.Ordinal), Is.True, "GetTaskAsync output differs");
            Assert.That(viaTask.State, Is.EqualTo(TaskState.Completed));
        });
    }

    [Test]
    public async Task TryReplaceTaskAsync_LongOutputReplacedByShortOne_ReadsTheShortOne()
    {
        var (account, runId) = await CreatePlannedRunAsync();
        var task = (await store.GetTaskAsync(runId, "T2", CancellationToken.None))!;
        Assert.That(await store.TryReplaceTaskAsync(runId, task with { Output = LongText(100_000, 'x') }, CancellationToken.None), Is.True);
        task = (await store.GetTaskAsync(runId, "T2", CancellationToken.None))!;

        Assert.That(await store.TryReplaceTaskAsync(runId, task with { Output = "short" }, CancellationToken.None), Is.True);

        await Assert.MultipleAsync(async () =>
        {
            Assert.That((await store.GetTaskAsync(runId, "T2", CancellationToken.None))!.Output, Is.EqualTo("short"));
            Assert.That((await store.GetAsync(account, runId, CancellationToken.None))!.Tasks[1].Output, Is.EqualTo("short"));
        });
    }

    [Test]
    public async Task CompleteAsync_FinalOutputOver64KiB_IsReadBackWhole()
    {
        var (account, runId) = await CreatePlannedRunAsync();
        var final = LongText(90_000, 'f');
        Assert.That(final.Length * sizeof(char), Is.GreaterThan(64 * 1024), "precondition: over one property's limit");

        var completed = await store.CompleteAsync(account, runId, 0, final, new TokenUsage(12, 34), CancellationToken.None);

        Assert.That(completed, Is.True);
        var run = (await store.GetAsync(account, runId, CancellationToken.None))!;
        Assert.Multiple(() =>
        {
            Assert.That(run.Status, Is.EqualTo(RunStatus.Completed));
            Assert.That(string.Equals(run.FinalOutput, final, StringComparison.Ordinal), Is.True, "final output differs");
            Assert.That(run.Usage, Is.EqualTo(new TokenUsage(12, 34)));
        });
    }

    [Test]
    public async Task TryReplaceTaskAsync_StaleETag_ReturnsFalseAndLeavesTheTaskUnchanged()
    {
        var (account, runId) = await CreatePlannedRunAsync();
        var read = (await store.GetTaskAsync(runId, "T2", CancellationToken.None))!;
        var first = LongText(100_000, 'a');
        Assert.That(await store.TryReplaceTaskAsync(runId, read with { Output = first, State = TaskState.Completed }, CancellationToken.None), Is.True);
        var afterFirst = (await store.GetTaskAsync(runId, "T2", CancellationToken.None))!;

        // The second writer still holds the ETag of the first read.
        var stale = await store.TryReplaceTaskAsync(runId, read with { Output = LongText(100_000, 'b'), State = TaskState.Failed }, CancellationToken.None);

        Assert.That(stale, Is.False);
        var viaTask = (await store.GetTaskAsync(runId, "T2", CancellationToken.None))!;
        var viaRun = (await store.GetAsync(account, runId, CancellationToken.None))!.Tasks.Single(t => t.TaskId == "T2");
        var chunkRows = new List<string>();
        await foreach (var row in tables.RunTasks.QueryAsync<TableEntity>(e => e.PartitionKey == runId, select: ["RowKey"]))
        {
            if (row.RowKey.StartsWith("T2~", StringComparison.Ordinal))
            {
                chunkRows.Add(row.RowKey);
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(chunkRows, Has.Count.EqualTo(TextChunks.Split(first).Count), "the losing writer's chunks are left behind");
            Assert.That(viaTask.ETag, Is.EqualTo(afterFirst.ETag));
            Assert.That(viaTask.State, Is.EqualTo(TaskState.Completed));
            Assert.That(string.Equals(viaTask.Output, first, StringComparison.Ordinal), Is.True, "GetTaskAsync shows the losing writer's text");
            Assert.That(string.Equals(viaRun.Output, first, StringComparison.Ordinal), Is.True, "GetAsync shows the losing writer's text");
        });
    }

    [TestCase(40)]
    [TestCase(100_000)]
    public async Task TryReplaceTaskAsync_TwoConcurrentWritersWithOneETag_ExactlyOneWins(int length)
    {
        var (account, runId) = await CreatePlannedRunAsync();
        var read = (await store.GetTaskAsync(runId, "T1", CancellationToken.None))!;
        var answers = new[] { LongText(length, 'a'), LongText(length, 'b') };

        var results = await Task.WhenAll(answers.Select(answer =>
            store.TryReplaceTaskAsync(runId, read with { Output = answer, State = TaskState.Completed }, CancellationToken.None)));

        Assert.That(results.Count(r => r), Is.EqualTo(1), "exactly one writer wins");
        var winner = answers[Array.IndexOf(results, true)];
        var viaTask = (await store.GetTaskAsync(runId, "T1", CancellationToken.None))!;
        var viaRun = (await store.GetAsync(account, runId, CancellationToken.None))!.Tasks.Single(t => t.TaskId == "T1");
        Assert.Multiple(() =>
        {
            Assert.That(string.Equals(viaTask.Output, winner, StringComparison.Ordinal), Is.True, "GetTaskAsync does not show the winner's text");
            Assert.That(string.Equals(viaRun.Output, winner, StringComparison.Ordinal), Is.True, "GetAsync does not show the winner's text");
        });
    }

    [Test]
    public async Task ApplyAsync_RunningRun_MovesRunAndTasks()
    {
        var (account, runId) = await CreatePlannedRunAsync();

        var applied = await store.ApplyAsync(
            new RunTransition(account, runId, RunStatus.WaitingHuman, [new TaskTransition("T1", TaskState.WaitingHuman)], new TokenUsage(5, 6)),
            CancellationToken.None);

        Assert.That(applied, Is.True);
        var run = (await store.GetAsync(account, runId, CancellationToken.None))!;
        Assert.Multiple(() =>
        {
            Assert.That(run.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(run.Tasks[0].State, Is.EqualTo(TaskState.WaitingHuman));
            Assert.That(run.WaitingOn, Is.EqualTo(new[] { "T1" }));
            Assert.That(run.Usage, Is.EqualTo(new TokenUsage(5, 6)));
        });
    }

    [Test]
    public async Task ApplyAsync_CancelledRun_ReturnsFalseAndChangesNothing()
    {
        var (account, runId) = await CreatePlannedRunAsync();
        Assert.That((await store.CancelAsync(account, runId, CancellationToken.None)).Result, Is.EqualTo(CancelResult.Cancelled));

        var applied = await store.ApplyAsync(
            new RunTransition(account, runId, RunStatus.Running, [new TaskTransition("T2", TaskState.Running)]), CancellationToken.None);

        Assert.That(applied, Is.False);
        var run = (await store.GetAsync(account, runId, CancellationToken.None))!;
        Assert.Multiple(() =>
        {
            Assert.That(run.Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(run.Tasks.Select(t => t.State), Is.All.EqualTo(TaskState.Cancelled));
        });
    }

    [Test]
    public async Task CancelAsync_AnotherAccountsRun_ReturnsNotFoundAndLeavesItRunning()
    {
        var (account, runId) = await CreatePlannedRunAsync();

        var outcome = await store.CancelAsync(NewAccountId(), runId, CancellationToken.None);

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(outcome.Result, Is.EqualTo(CancelResult.NotFound));
            Assert.That(outcome.Run, Is.Null);
            Assert.That((await store.GetAsync(account, runId, CancellationToken.None))!.Status, Is.EqualTo(RunStatus.Running));
        });
    }

    [Test]
    public async Task CancelAsync_LiveRun_CancelsRunAndEveryUnfinishedTask_ThenIsIdempotent()
    {
        var (account, runId) = await CreatePlannedRunAsync();
        await store.ApplyAsync(new RunTransition(account, runId, RunStatus.Running,
        [
            new TaskTransition("T1", TaskState.WaitingHuman),
            new TaskTransition("T2", TaskState.Running),
            new TaskTransition("T4", TaskState.Completed),
        ]), CancellationToken.None);

        var first = await store.CancelAsync(account, runId, CancellationToken.None);
        var second = await store.CancelAsync(account, runId, CancellationToken.None);

        var states = first.Run!.Tasks.ToDictionary(t => t.TaskId, t => t.State);
        Assert.Multiple(() =>
        {
            Assert.That(first.Result, Is.EqualTo(CancelResult.Cancelled));
            Assert.That(first.Run.Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(states["T1"], Is.EqualTo(TaskState.Cancelled), "waiting_human task");
            Assert.That(states["T2"], Is.EqualTo(TaskState.Cancelled), "running task");
            Assert.That(states["T3"], Is.EqualTo(TaskState.Cancelled), "pending task");
            Assert.That(states["T4"], Is.EqualTo(TaskState.Completed), "a finished task keeps its state");
            Assert.That(second.Result, Is.EqualTo(CancelResult.AlreadyCancelled));
            Assert.That(second.Run!.Status, Is.EqualTo(RunStatus.Cancelled));
        });
    }

    [Test]
    public async Task CancelAsync_CompletedRun_ReturnsAlreadyFinishedAndKeepsItCompleted()
    {
        var (account, runId) = await CreatePlannedRunAsync();
        Assert.That(await store.CompleteAsync(account, runId, 0, "done", TokenUsage.Zero, CancellationToken.None), Is.True);

        var outcome = await store.CancelAsync(account, runId, CancellationToken.None);

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(outcome.Result, Is.EqualTo(CancelResult.AlreadyFinished));
            Assert.That(outcome.Run!.Status, Is.EqualTo(RunStatus.Completed));
            var run = (await store.GetAsync(account, runId, CancellationToken.None))!;
            Assert.That(run.Status, Is.EqualTo(RunStatus.Completed));
            Assert.That(run.FinalOutput, Is.EqualTo("done"));
        });
    }

    [Test]
    public async Task ListAsync_PagesNewestFirst_WithTotal_AndOnlyTheCallersRuns()
    {
        var account = NewAccountId();
        var other = NewAccountId();
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var created = new List<RunRecord>();
        // Created out of time order, so the listing order must come from the store, not from insertion order.
        foreach (var minutes in new[] { 3, 0, 6, 1, 5, 2, 4 })
        {
            var run = NewRun(account, start.AddMinutes(minutes));
            await store.CreateAsync(run, CancellationToken.None);
            created.Add(run);
            await store.CreateAsync(NewRun(other, start.AddMinutes(minutes).AddSeconds(1)), CancellationToken.None);
        }

        var expected = created.OrderByDescending(r => r.CreatedAt).Select(r => r.RunId).ToList();

        var pages = new[]
        {
            await store.ListAsync(account, 3, 0, CancellationToken.None),
            await store.ListAsync(account, 3, 3, CancellationToken.None),
            await store.ListAsync(account, 3, 6, CancellationToken.None),
        };
        var all = await store.ListAsync(account, 100, 0, CancellationToken.None);
        var past = await store.ListAsync(account, 3, 7, CancellationToken.None);
        var stranger = await store.ListAsync(NewAccountId(), 10, 0, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(pages[0].Runs.Select(r => r.RunId), Is.EqualTo(expected.Take(3)));
            Assert.That(pages[1].Runs.Select(r => r.RunId), Is.EqualTo(expected.Skip(3).Take(3)));
            Assert.That(pages[2].Runs.Select(r => r.RunId), Is.EqualTo(expected.Skip(6)));
            Assert.That(pages.Select(p => p.Total), Is.All.EqualTo(7));
            Assert.That(all.Runs.Select(r => r.RunId), Is.EqualTo(expected));
            Assert.That(all.Runs.Select(r => r.AccountId), Is.All.EqualTo(account));
            Assert.That(all.Runs.Select(r => r.CreatedAt), Is.Ordered.Descending);
            Assert.That(past.Runs, Is.Empty);
            Assert.That(past.Total, Is.EqualTo(7));
            Assert.That(stranger.Runs, Is.Empty);
            Assert.That(stranger.Total, Is.Zero);
        });
    }

    [Test]
    public async Task ListAsync_ConcurrentStarts_AreEachCountedOnce()
    {
        var account = NewAccountId();
        await store.StartCountingAsync(account, CancellationToken.None);

        // More starts at once than there are count shards: some race for one and retry on another.
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => store.CreateAsync(NewRun(account, DateTimeOffset.UtcNow.AddSeconds(-i)), CancellationToken.None)));

        Assert.That((await store.ListAsync(account, 1, 0, CancellationToken.None)).Total, Is.EqualTo(40));
    }

    [Test]
    public async Task ListAsync_AccountWithoutItsCountRow_IsCountedOnceAndThenByTheRow()
    {
        var account = NewAccountId();
        for (var i = 0; i < 4; i++)
        {
            await store.CreateAsync(NewRun(account, DateTimeOffset.UtcNow.AddSeconds(-i)), CancellationToken.None);
        }

        // As an account listed before runs were counted.
        await tables.Runs.DeleteEntityAsync(account, "~count");
        var first = await store.ListAsync(account, 2, 0, CancellationToken.None);
        await store.CreateAsync(NewRun(account, DateTimeOffset.UtcNow), CancellationToken.None);
        var second = await store.ListAsync(account, 10, 3, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(first.Total, Is.EqualTo(4));
            Assert.That(first.Runs, Has.Count.EqualTo(2));
            Assert.That(second.Total, Is.EqualTo(5));
            Assert.That(second.Runs, Has.Count.EqualTo(2), "offset 3 of 5");
        });
    }

    [Test]
    public async Task GetAsync_RunChangedByAnotherInstanceAfterItWasRead_ReadsTheChange()
    {
        var (account, runId) = await CreatePlannedRunAsync();
        var elsewhere = new TableRunStore(tables, TimeProvider.System, []);
        var before = (await store.GetAsync(account, runId, CancellationToken.None))!;

        await elsewhere.ApplyAsync(new RunTransition(account, runId, RunStatus.Running, [new TaskTransition("T2", TaskState.Running)]), CancellationToken.None);
        var after = (await store.GetAsync(account, runId, CancellationToken.None))!;
        var again = (await store.GetAsync(account, runId, CancellationToken.None))!;

        Assert.Multiple(() =>
        {
            Assert.That(before.Tasks[1].State, Is.EqualTo(TaskState.Pending));
            Assert.That(after.Tasks[1].State, Is.EqualTo(TaskState.Running), "a copy read before the change is not served");
            Assert.That(after.Version, Is.GreaterThan(before.Version));
            Assert.That(again, Is.SameAs(after), "an unchanged run is served from the copy");
        });
    }

    [Test]
    public async Task ApplyAsync_RunChangedByAnotherInstanceSinceThisOneReadIt_DecidesOnTheRunAsItIsNow()
    {
        // This store remembers the run as it read it; the other instance's write makes the remembered copy stale.
        var (account, runId) = await CreatePlannedRunAsync();
        var elsewhere = new TableRunStore(tables, TimeProvider.System, []);
        var before = (await store.GetAsync(account, runId, CancellationToken.None))!;

        await elsewhere.ApplyAsync(new RunTransition(account, runId, RunStatus.Running, [new TaskTransition("T2", TaskState.Running)]), CancellationToken.None);
        var applied = await store.ApplyAsync(new RunTransition(account, runId, RunStatus.Running, [new TaskTransition("T1", TaskState.WaitingHuman)]),
            CancellationToken.None);
        var after = (await elsewhere.GetAsync(account, runId, CancellationToken.None))!;

        Assert.Multiple(() =>
        {
            Assert.That(applied, Is.True);
            Assert.That(after.Tasks.Select(t => t.State).Take(2), Is.EqualTo(new[] { TaskState.WaitingHuman, TaskState.Running }), "both writes stand");
            Assert.That(after.Version, Is.EqualTo(before.Version + 2));
        });
    }

    [Test]
    public async Task TryReplaceTaskAsync_RunCancelledByAnotherInstanceWhileTheTaskRan_DropsTheOutput()
    {
        var (account, runId) = await CreatePlannedRunAsync();
        await store.ApplyAsync(new RunTransition(account, runId, RunStatus.Running, [new TaskTransition("T2", TaskState.Running)]), CancellationToken.None);
        var running = (await store.GetAsync(account, runId, CancellationToken.None))!.Tasks[1];
        var elsewhere = new TableRunStore(tables, TimeProvider.System, []);

        await elsewhere.CancelAsync(account, runId, CancellationToken.None);
        var written = await store.TryReplaceTaskAsync(runId, running with { State = TaskState.Completed, Output = "late" }, CancellationToken.None);
        var after = (await elsewhere.GetAsync(account, runId, CancellationToken.None))!;

        Assert.Multiple(() =>
        {
            Assert.That(written, Is.False);
            Assert.That(after.Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(after.Tasks[1].State, Is.EqualTo(TaskState.Cancelled));
            Assert.That(after.Tasks[1].Output, Is.Null);
        });
    }

    [Test]
    public async Task StartTaskAsync_PendingTask_RunsItAndTheRunWithTheUsageSoFar()
    {
        var (account, runId) = await CreatePlannedRunAsync(start: false);

        var started = await store.StartTaskAsync(account, runId, 0, "T2", new TokenUsage(7, 8), CancellationToken.None);
        var run = (await store.GetAsync(account, runId, CancellationToken.None))!;

        Assert.Multiple(() =>
        {
            Assert.That(started, Is.True);
            Assert.That(run.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(run.Usage, Is.EqualTo(new TokenUsage(7, 8)));
            Assert.That(run.Tasks.Select(t => (t.TaskId, t.State)), Is.EqualTo(new[]
            {
                ("T1", TaskState.Pending), ("T2", TaskState.Running), ("T3", TaskState.Pending), ("T4", TaskState.Pending),
            }));
            Assert.That(run.Tasks[1].StartedAt, Is.Not.Null);
        });
    }

    [Test]
    public async Task StartTaskAsync_TaskAlreadyPastPending_ChangesNothing()
    {
        // An activity delivered again after its draft went to review: the draft stays where it is, and so does the run.
        var (account, runId) = await CreatePlannedRunAsync(start: false);
        await store.ApplyAsync(new RunTransition(account, runId, RunStatus.WaitingHuman, [new TaskTransition("T2", TaskState.WaitingHuman)]), CancellationToken.None);
        var before = (await store.GetAsync(account, runId, CancellationToken.None))!;

        var started = await store.StartTaskAsync(account, runId, 0, "T2", new TokenUsage(7, 8), CancellationToken.None);
        var after = (await store.GetAsync(account, runId, CancellationToken.None))!;

        Assert.Multiple(() =>
        {
            Assert.That(started, Is.True, "not ended: the activity goes on and finds its task not running");
            Assert.That(after.Version, Is.EqualTo(before.Version));
            Assert.That(after.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(after.Tasks[1].State, Is.EqualTo(TaskState.WaitingHuman));
        });
    }

    [Test]
    public async Task StartTaskAsync_RunCancelledOrRunByAnotherAttempt_ReturnsFalseAndChangesNothing()
    {
        var (account, cancelled) = await CreatePlannedRunAsync(start: false);
        await store.CancelAsync(account, cancelled, CancellationToken.None);
        var (owner, other) = await CreatePlannedRunAsync(start: false);
        var before = (await store.GetAsync(owner, other, CancellationToken.None))!;

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await store.StartTaskAsync(account, cancelled, 0, "T2", TokenUsage.Zero, CancellationToken.None), Is.False);
            Assert.That((await store.GetAsync(account, cancelled, CancellationToken.None))!.Tasks[1].State, Is.EqualTo(TaskState.Cancelled));
            Assert.That(await store.StartTaskAsync(owner, other, 1, "T2", TokenUsage.Zero, CancellationToken.None), Is.False);
            Assert.That((await store.GetAsync(owner, other, CancellationToken.None))!.Version, Is.EqualTo(before.Version));
            Assert.That(await store.StartTaskAsync(NewAccountId(), other, 0, "T2", TokenUsage.Zero, CancellationToken.None), Is.False,
                "another account's run");
        });
    }

    /// <summary>A run taken through planning as the engine does it; then, unless told otherwise, running.</summary>
    async Task<(string AccountId, string RunId)> CreatePlannedRunAsync(int taskCount = 4, bool start = true)
    {
        var account = NewAccountId();
        var run = NewRun(account, DateTimeOffset.UtcNow);
        await store.CreateAsync(run, CancellationToken.None);
        Assert.That(await store.ApplyAsync(new RunTransition(account, run.RunId, RunStatus.Planning, []), CancellationToken.None), Is.True);
        var tasks = new List<PlannedTask> { new("T1", "Provide context", "Context from a person", TaskKind.Human, null, [], "What do you know?") };
        for (var i = 2; i <= taskCount; i++)
        {
            tasks.Add(new PlannedTask(TaskIds.Of(i), $"Step {i}", $"Do step {i}", TaskKind.Agent, "research",
                i == 2 ? [] : ["T1", TaskIds.Of(i - 1)]));
        }

        Assert.That(await store.SavePlanAsync(account, run.RunId, new PlanSave(0, 0, new RunPlan(tasks, "test"), new TokenUsage(1, 2), [], false), CancellationToken.None), Is.True);
        if (start)
        {
            Assert.That(await store.ApplyAsync(new RunTransition(account, run.RunId, RunStatus.Running, []), CancellationToken.None), Is.True);
        }

        return (account, run.RunId);
    }

    static string NewAccountId() => Ids.NewAccountId();

    static RunRecord NewRun(string accountId, DateTimeOffset at) => new()
    {
        RunId = Ids.NewRunId(at),
        AccountId = accountId,
        Status = RunStatus.Queued,
        Definition = new RunDefinition("Research competitors, then write a report.", [new AgentSpec("research"), new AgentSpec("writer", "Be brief.")],
            ["company details"], ["publish"], false, null, 3600),
        CreatedAt = at,
        UpdatedAt = at,
    };

    /// <summary>
    /// A text of the given length mixing one-, two- and three-byte UTF-8 characters and surrogate pairs, with a pair at
    /// index 29,999 (straddling the first 30,000-character chunk boundary) and one at the very end.
    /// </summary>
    static string LongText(int length, char marker)
    {
        const string pattern = "Orchflow é中€ß—ünï ";
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = i % 97 == 0 ? marker : pattern[i % pattern.Length];
        }

        foreach (var at in new[] { 29_999, 12_345, length - 2 }.Where(i => i >= 0 && i + 1 < length))
        {
            chars[at] = '\uD83D'; // 😀
            chars[at + 1] = '\uDE00';
        }

        return new string(chars);
    }
}
