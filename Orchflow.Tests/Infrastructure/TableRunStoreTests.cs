using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>The run projection on Table Storage (Azurite): what reads and listings return.</summary>
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
        var run = StoredRuns.New(account, DateTimeOffset.UtcNow);
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
        var run = StoredRuns.New(account, DateTimeOffset.UtcNow);
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
        var (account, runId) = await StoredRuns.CreatePlannedAsync(store);
        var expected = await store.GetAsync(account, runId, CancellationToken.None);

        // With the run row gone, only the partition can answer: the read must not need the run row.
        await tables.Runs.DeleteEntityAsync(account, runId);
        var fromPartition = await store.GetAsync(account, runId, CancellationToken.None);
        var byAnother = await store.GetAsync(NewAccountId(), runId, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(Describe(fromPartition), Is.EqualTo(Describe(expected)));
            Assert.That(fromPartition!.PlannedBy, Is.EqualTo("test"));
            Assert.That(fromPartition.Status, Is.EqualTo(RunStatus.Running), "T2 runs while T1 waits");
            Assert.That(byAnother, Is.Null);
        });
    }

    [Test]
    public async Task GetAsync_RunWithoutItsPartitionHead_FallsBackToTheRunRow()
    {
        var (account, runId) = await StoredRuns.CreatePlannedAsync(store);
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
    static string Describe(RunRecord? run) => run is null ? "null" : JsonSerializer.Serialize(run);

    [Test]
    public async Task ListAsync_RetriedRun_ShowsItsStatusAndNoLongerTheErrorItFailedWith()
    {
        var (account, runId) = await StoredRuns.CreatePlannedAsync(store);
        await store.FailAsync(account, runId, "The provider refused the key.", "T2");
        Assert.That((await store.ListAsync(account, 1, 0, CancellationToken.None)).Runs.Single().Error, Is.EqualTo("The provider refused the key."));

        await store.ChangeAsync(account, runId, (run, _) => RunTransitions.Retry(run), CancellationToken.None);
        var listed = (await store.ListAsync(account, 1, 0, CancellationToken.None)).Runs.Single();

        Assert.Multiple(() =>
        {
            Assert.That(listed.Status, Is.EqualTo(RunStatus.Queued));
            Assert.That(listed.Error, Is.Null, "a retry clears the error in the listing as in the run");
        });
    }

    [Test]
    public async Task SavePlanAsync_WritesPendingTasksInOrder_AndKeepsTheRunPlanning()
    {
        var (account, runId) = await StoredRuns.CreatePlannedAsync(store, taskCount: 11, start: false);

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
            var run = StoredRuns.New(account, start.AddMinutes(minutes));
            await store.CreateAsync(run, CancellationToken.None);
            created.Add(run);
            await store.CreateAsync(StoredRuns.New(other, start.AddMinutes(minutes).AddSeconds(1)), CancellationToken.None);
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
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => store.CreateAsync(StoredRuns.New(account, DateTimeOffset.UtcNow.AddSeconds(-i)), CancellationToken.None)));

        Assert.That((await store.ListAsync(account, 1, 0, CancellationToken.None)).Total, Is.EqualTo(40));
    }

    [Test]
    public async Task CreateAsync_CountedAccount_WritesThePartitionThenListsAndCountsTheRunInOneBatch()
    {
        var requests = new CountedRequests();
        var counted = requests.Tables();
        await counted.EnsureCreatedAsync();
        var process = new TableRunStore(counted, TimeProvider.System, []);
        var account = NewAccountId();
        await process.StartCountingAsync(account, CancellationToken.None);
        for (var shard = 0; shard < TableRunStore.CountShards; shard++)
        {
            await counted.Runs.AddEntityAsync(new Azure.Data.Tables.TableEntity(account, $"{TableRunStore.CountShardPrefix}{shard:D2}") { ["Count"] = 0 });
        }

        var sent = await requests.OfAsync(() => process.CreateAsync(StoredRuns.New(account, DateTimeOffset.UtcNow), CancellationToken.None));

        Assert.Multiple(async () =>
        {
            Assert.That(sent, Is.EqualTo(3), "the partition's batch, the shard's read, and the listing row with the shard's count");
            Assert.That((await process.ListAsync(account, 10, 0, CancellationToken.None)).Total, Is.EqualTo(1));
        });
    }

    [TestCase("GET", "the read of a count shard")]
    [TestCase("POST", "the batch that lists and counts the run")]
    public async Task CreateAsync_CountFails_TheRunIsListedNowhereNotCountedAndLeavesNoRow(string method, string failing)
    {
        var prefix = StorageFixture.NewTablePrefix();
        var healthy = new TableRunStore(StorageFixture.NewTables(prefix), TimeProvider.System, []);
        var account = NewAccountId();
        await healthy.StartCountingAsync(account, CancellationToken.None);
        var fault = new FailingRequests(method, "~count~");
        var faulty = new TableRunStore(fault.Tables(prefix), TimeProvider.System, []);

        var failed = StoredRuns.New(account, DateTimeOffset.UtcNow.AddSeconds(-1));
        Assert.ThrowsAsync<Azure.RequestFailedException>(() => faulty.CreateAsync(failed, CancellationToken.None));
        var next = StoredRuns.New(account, DateTimeOffset.UtcNow);
        await healthy.CreateAsync(next, CancellationToken.None);
        var page = await healthy.ListAsync(account, 10, 0, CancellationToken.None);
        var left = await StorageFixture.RowsNamingAsync(prefix, failed.RunId);

        Assert.Multiple(() =>
        {
            Assert.That(fault.Failed, Is.EqualTo(1), failing + " failed");
            // Never listed, it would be found by no erasure: none of its rows stays.
            Assert.That(left, Is.Empty);
            // The caller is told the start failed and never schedules it: listed, it would sit queued for ever.
            Assert.That(page.Runs.Select(r => r.RunId), Is.EqualTo(new[] { next.RunId }));
            Assert.That(page.Total, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task ListAsync_AccountWithoutItsCountRow_IsCountedOnceAndThenByTheRow()
    {
        var account = NewAccountId();
        for (var i = 0; i < 4; i++)
        {
            await store.CreateAsync(StoredRuns.New(account, DateTimeOffset.UtcNow.AddSeconds(-i)), CancellationToken.None);
        }

        // As an account listed before runs were counted.
        await tables.Runs.DeleteEntityAsync(account, "~count");
        var first = await store.ListAsync(account, 2, 0, CancellationToken.None);
        await store.CreateAsync(StoredRuns.New(account, DateTimeOffset.UtcNow), CancellationToken.None);
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
        var (account, runId) = await StoredRuns.CreatePlannedAsync(store);
        var elsewhere = new TableRunStore(tables, TimeProvider.System, []);
        var before = (await store.GetAsync(account, runId, CancellationToken.None))!;

        await elsewhere.FinishAsync(account, runId, "T2", "Findings.");
        var after = (await store.GetAsync(account, runId, CancellationToken.None))!;
        var again = (await store.GetAsync(account, runId, CancellationToken.None))!;

        Assert.Multiple(() =>
        {
            Assert.That(before.Tasks[1].State, Is.EqualTo(TaskState.Running));
            Assert.That(after.Tasks[1].State, Is.EqualTo(TaskState.Completed), "a copy read before the change is not served");
            Assert.That(after.Version, Is.GreaterThan(before.Version));
            Assert.That(again, Is.SameAs(after), "an unchanged run is served from the copy");
        });
    }

    [Test]
    public async Task GetReachedAsync_CopyAtTheVersionOrLater_IsServedWithoutAskingStorageAndOneBehindIsReadAgain()
    {
        var requests = new CountedRequests();
        var counted = requests.Tables();
        var process = new TableRunStore(counted, TimeProvider.System, []);
        var (account, runId) = await StoredRuns.CreatePlannedAsync(process);
        var elsewhere = new TableRunStore(counted, TimeProvider.System, []);
        var held = (await process.GetAsync(account, runId, CancellationToken.None))!;

        var atHeld = await requests.OfAsync(() => process.GetReachedAsync(account, runId, held.Version, CancellationToken.None));
        var atEarlier = await requests.OfAsync(() => process.GetReachedAsync(account, runId, held.Version - 1, CancellationToken.None));
        var unknown = await requests.OfAsync(() => process.GetReachedAsync(account, runId, 0, CancellationToken.None));
        await elsewhere.FinishAsync(account, runId, "T2", "Findings.");
        var finished = (await elsewhere.GetAsync(account, runId, CancellationToken.None))!;
        RunRecord? read = null;
        var behind = await requests.OfAsync(async () => read = await process.GetReachedAsync(account, runId, finished.Version, CancellationToken.None));
        var otherAccount = await process.GetReachedAsync(NewAccountId(), runId, finished.Version, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That((atHeld, atEarlier), Is.EqualTo((0, 0)), "the copy holds every change up to the version named");
            Assert.That(unknown, Is.EqualTo(1), "no version named: the status row says whether the copy is current");
            Assert.That(behind, Is.EqualTo(2), "the copy is behind the version named: the status row, then the partition");
            Assert.That(read!.Tasks[1].Output, Is.EqualTo("Findings."), "the change made by another instance is seen");
            Assert.That(read.Version, Is.EqualTo(finished.Version));
            Assert.That(otherAccount, Is.Null, "a copy is served to its own account only");
        });
    }

    static string NewAccountId() => Ids.NewAccountId();
}
