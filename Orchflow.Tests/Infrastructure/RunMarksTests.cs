using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Infrastructure.Storage;
using Orchflow.Tests.Models;

namespace Orchflow.Tests.Infrastructure;

/// <summary>
/// Clients' reads of a run from what this process last wrote or read (Azurite): a write made here is seen at once,
/// one made by another instance once the freshness window has passed, and reads that decide a change always ask
/// storage. "Another instance" is a second store over the same tables, as a second host would have.
/// </summary>
[TestFixture]
public sealed class RunMarksTests
{
    static readonly TimeSpan Window = TimeSpan.FromMilliseconds(250);

    OrchflowTables tables = null!;

    /// <summary>The marks' clock: the window passes only when a test advances it, however slow storage is.</summary>
    ManualTimeProvider clock = null!;

    [OneTimeSetUp]
    public void CreateTables() => tables = StorageFixture.NewTables();

    [SetUp]
    public void NewClock() => clock = new ManualTimeProvider(DateTimeOffset.UtcNow);

    [Test]
    public async Task GetRecentAsync_RunChangedByAnotherInstance_ServedAsLastReadWithinTheWindowAndChangedAfterIt()
    {
        var (here, _) = Stores(Window);
        var elsewhere = new TableRunStore(tables, TimeProvider.System, []);
        var (account, runId) = await CreateRunAsync(here);
        var before = (await here.GetAsync(account, runId, CancellationToken.None))!;

        await elsewhere.ApplyAsync(new RunTransition(account, runId, RunStatus.Planning, []), CancellationToken.None);
        var withinTheWindow = await here.GetRecentAsync(account, runId, CancellationToken.None);
        var decided = await here.GetAsync(account, runId, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(withinTheWindow, Is.SameAs(before), "within the window the run is served from memory, without a storage read");
            Assert.That(decided!.Status, Is.EqualTo(RunStatus.Planning), "a read that decides a change always asks storage");
        });

        // The strong read above learned the new version; a third instance's change is what the next window shows.
        await elsewhere.ApplyAsync(new RunTransition(account, runId, RunStatus.Running, []), CancellationToken.None);
        Assert.That((await here.GetRecentAsync(account, runId, CancellationToken.None))!.Status, Is.EqualTo(RunStatus.Planning));
        clock.Advance(Window - TimeSpan.FromMilliseconds(1));
        Assert.That((await here.GetRecentAsync(account, runId, CancellationToken.None))!.Status, Is.EqualTo(RunStatus.Planning),
            "still within the window");
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That((await here.GetRecentAsync(account, runId, CancellationToken.None))!.Status, Is.EqualTo(RunStatus.Running),
            "once the window has passed the change is read");
    }

    [Test]
    public async Task GetRecentAsync_RunChangedInThisProcess_SeenAtOnce()
    {
        var (here, events) = Stores(TimeSpan.FromMinutes(1));
        var (account, runId) = await CreateRunAsync(here);
        var before = (await here.GetRecentAsync(account, runId, CancellationToken.None))!;

        await here.ApplyAsync(new RunTransition(account, runId, RunStatus.Planning, []), CancellationToken.None);
        var after = (await here.GetRecentAsync(account, runId, CancellationToken.None))!;
        var mark = await events.RecentMarkAsync(account, runId, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(before.Status, Is.EqualTo(RunStatus.Queued));
            Assert.That(after.Status, Is.EqualTo(RunStatus.Planning));
            Assert.That(after.Version, Is.EqualTo(before.Version + 1));
            Assert.That(mark, Is.EqualTo(new RunMark(after.Version, after.Sequence, RunStatus.Planning)));
        });
    }

    [Test]
    public async Task GetRecentAsync_NoWindow_ReadsAnotherInstancesChangeAtOnce()
    {
        var (here, events) = Stores(TimeSpan.Zero);
        var elsewhere = new TableRunStore(tables, TimeProvider.System, []);
        var (account, runId) = await CreateRunAsync(here);
        _ = await here.GetRecentAsync(account, runId, CancellationToken.None);

        await elsewhere.ApplyAsync(new RunTransition(account, runId, RunStatus.Planning, []), CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That((await here.GetRecentAsync(account, runId, CancellationToken.None))!.Status, Is.EqualTo(RunStatus.Planning));
            Assert.That((await events.RecentMarkAsync(account, runId, CancellationToken.None))!.Status, Is.EqualTo(RunStatus.Planning));
        });
    }

    [Test]
    public async Task RecentReads_AnotherAccountsRunKnownHere_NotFound()
    {
        var (here, events) = Stores(TimeSpan.FromMinutes(1));
        var (account, runId) = await CreateRunAsync(here);
        Assert.That(await here.GetRecentAsync(account, runId, CancellationToken.None), Is.Not.Null);
        var stranger = Ids.NewAccountId();

        Assert.Multiple(async () =>
        {
            Assert.That(await here.GetRecentAsync(stranger, runId, CancellationToken.None), Is.Null);
            Assert.That(await events.RecentMarkAsync(stranger, runId, CancellationToken.None), Is.Null);
            Assert.That(await events.RecentMarkAsync(account, runId, CancellationToken.None), Is.Not.Null);
        });
    }

    [Test]
    public void Saw_OlderVersionAfterANewerOne_KeepsTheNewer()
    {
        var marks = Marks(TimeSpan.FromMinutes(1));
        var readStarted = marks.Now();
        clock.Advance(TimeSpan.FromMilliseconds(5));
        marks.Saw("acct", "run", new RunMark(5, 9, RunStatus.Running), marks.Now());

        // A read that began before the write landed answers after it, with the version before the write.
        marks.Saw("acct", "run", new RunMark(4, 7, RunStatus.Running), readStarted);
        marks.Saw("acct", "run", new RunMark(4, 7, RunStatus.Running), marks.Now());

        Assert.That(marks.Recent("run")?.Mark, Is.EqualTo(new RunMark(5, 9, RunStatus.Running)));
    }

    [Test]
    public void Recent_WindowOfZeroOrUnknownRun_AsksStorage()
    {
        var none = Marks(TimeSpan.Zero);
        none.Saw("acct", "run", new RunMark(1, 1, RunStatus.Queued), none.Now());

        Assert.Multiple(() =>
        {
            Assert.That(none.Recent("run"), Is.Null);
            Assert.That(Marks(TimeSpan.FromMinutes(1)).Recent("run"), Is.Null);
        });
    }

    (TableRunStore Runs, TableRunEventStore Events) Stores(TimeSpan window)
    {
        var marks = Marks(window);
        return (new TableRunStore(tables, TimeProvider.System, [], marks: marks), new TableRunEventStore(tables, marks));
    }

    RunMarks Marks(TimeSpan window) =>
        new(Options.Create(new StorageOptions { ReadFreshnessMs = (int)window.TotalMilliseconds }), clock);

    static async Task<(string AccountId, string RunId)> CreateRunAsync(TableRunStore store)
    {
        var account = Ids.NewAccountId();
        var now = DateTimeOffset.UtcNow;
        var run = new RunRecord
        {
            RunId = Ids.NewRunId(now),
            AccountId = account,
            Status = RunStatus.Queued,
            Definition = new RunDefinition("Research competitors, then write a report.", [new AgentSpec("research")], [], [], false, null, 3600),
            CreatedAt = now,
            UpdatedAt = now,
        };
        await store.CreateAsync(run, CancellationToken.None);
        return (account, run.RunId);
    }
}
