using System.Text.Json;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Infrastructure.Storage;
using Orchflow.Tests.Models;

namespace Orchflow.Tests.Infrastructure;

/// <summary>
/// What a process knows of each run (Azurite): a client's read is served from memory within the freshness window,
/// a write made here is seen at once and one made by another instance once the window has passed, reads that decide
/// a change always ask storage, the run as remembered after each write is the run a fresh read returns, and the
/// memory keeps to its bound. "Another instance" is a second store over the same tables, as a second host would have.
/// </summary>
[TestFixture]
public sealed class KnownRunsTests
{
    static readonly TimeSpan Window = TimeSpan.FromMilliseconds(250);

    OrchflowTables tables = null!;

    /// <summary>The memory's clock: the window passes only when a test advances it, however slow storage is.</summary>
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

        await elsewhere.ChangeAsync(account, runId, (run, _) => RunTransitions.BeginPlanning(run, 0), CancellationToken.None);
        var withinTheWindow = await here.GetRecentAsync(account, runId, CancellationToken.None);
        var decided = await here.GetAsync(account, runId, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(withinTheWindow, Is.SameAs(before), "within the window the run is served from memory, without a storage read");
            Assert.That(decided!.Status, Is.EqualTo(RunStatus.Planning), "a read that must see every change always asks storage");
        });

        // The strong read above learned the new version; another change is what the next window shows.
        await elsewhere.ChangeAsync(account, runId, (run, now) => RunTransitions.Fail(run, 0, "Stopped.", null, now), CancellationToken.None);
        Assert.That((await here.GetRecentAsync(account, runId, CancellationToken.None))!.Status, Is.EqualTo(RunStatus.Planning));
        clock.Advance(Window - TimeSpan.FromMilliseconds(1));
        Assert.That((await here.GetRecentAsync(account, runId, CancellationToken.None))!.Status, Is.EqualTo(RunStatus.Planning),
            "still within the window");
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That((await here.GetRecentAsync(account, runId, CancellationToken.None))!.Status, Is.EqualTo(RunStatus.Failed),
            "once the window has passed the change is read");
    }

    [Test]
    public async Task GetRecentAsync_RunChangedInThisProcess_SeenAtOnceAsTheChangeLeftIt()
    {
        var (here, events) = Stores(TimeSpan.FromMinutes(1));
        var (account, runId) = await CreateRunAsync(here);
        var before = (await here.GetRecentAsync(account, runId, CancellationToken.None))!;

        var change = await here.ChangeAsync(account, runId, (run, _) => RunTransitions.BeginPlanning(run, 0), CancellationToken.None);
        var after = (await here.GetRecentAsync(account, runId, CancellationToken.None))!;
        var mark = await events.RecentMarkAsync(account, runId, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(before.Status, Is.EqualTo(RunStatus.Queued));
            Assert.That(after, Is.SameAs(change!.Run), "the run as the write left it, with no read");
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

        await elsewhere.ChangeAsync(account, runId, (run, _) => RunTransitions.BeginPlanning(run, 0), CancellationToken.None);

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
            Assert.That(await here.ChangeAsync(stranger, runId, (run, now) => RunTransitions.Cancel(run, now), CancellationToken.None), Is.Null);
            Assert.That(await events.RecentMarkAsync(stranger, runId, CancellationToken.None), Is.Null);
            Assert.That(await events.RecentMarkAsync(account, runId, CancellationToken.None), Is.Not.Null);
        });
    }

    [Test]
    public async Task ChangeAsync_ARunThroughEveryKindOfChange_IsRememberedAsAFreshReadReturnsIt()
    {
        var (here, _) = Stores(TimeSpan.FromMinutes(1));
        var (account, runId) = await CreateRunAsync(here);
        var longDraft = string.Concat(Enumerable.Repeat("A draft long enough for chunk rows. ", 2_000));
        var plan = new RunPlan([
            new PlannedTask("T1", "Company details", "", TaskKind.Human, null, [], "Tell us about the company."),
            new PlannedTask("T2", "Research", "Research competitors.", TaskKind.Agent, "research", []),
            new PlannedTask("T3", "Write", "Write the report.", TaskKind.Agent, "writer", ["T1", "T2"]),
        ], "test");
        RunDecider[] changes =
        [
            (run, _) => RunTransitions.BeginPlanning(run, 0),
            (run, _) => RunTransitions.SavePlan(run, new PlanSave(0, 0, plan, new TokenUsage(10, 20),
                [new RunEvent("repair", DateTimeOffset.UtcNow, RunEventKinds.PlanRepair, "Repaired.")], AwaitReview: false)),
            (run, now) => RunTransitions.StartTasks(run, 0, ["T1"], ["T2"], now),
            (run, now) => RunTransitions.FinishAgent(run, 0, "T2", new AgentResult(longDraft, new TokenUsage(3, 4), AwaitApproval: true), now),
            (run, now) => RunTransitions.Answer(run, "T1", new HumanAnswer(null, "We make workflow software.", null), now),
            (run, now) => RunTransitions.Answer(run, "T2", new HumanAnswer(false, null, "Shorter."), now),
            (run, now) => RunTransitions.FinishAgent(run, 0, "T2", new AgentResult("Short.", new TokenUsage(1, 1), AwaitApproval: false), now),
            (run, now) => RunTransitions.Fail(run, 0, "The writer's provider refused the key.", "T3", now),
            (run, _) => RunTransitions.Retry(run),
            (run, now) => RunTransitions.StartAgent(run, 1, "T3", now),
            (run, now) => RunTransitions.FinishAgent(run, 1, "T3", new AgentResult("The report.", new TokenUsage(2, 2), AwaitApproval: false), now),
            (run, _) => RunTransitions.Complete(run, 1, longDraft + " The end.", new TokenUsage(5, 6)),
        ];

        foreach (var (change, i) in changes.Select((c, i) => (c, i)))
        {
            var written = await here.ChangeAsync(account, runId, change, CancellationToken.None);
            var remembered = await here.GetRecentAsync(account, runId, CancellationToken.None);
            var fresh = await new TableRunStore(tables, TimeProvider.System, []).GetAsync(account, runId, CancellationToken.None);

            Assert.Multiple(() =>
            {
                Assert.That(written!.Refusal, Is.Null, $"change {i}");
                Assert.That(Describe(remembered!), Is.EqualTo(Describe(fresh!)), $"the run as remembered after change {i}");
            });
        }
    }

    [Test]
    public void Saw_OlderVersionAfterANewerOne_KeepsTheNewer()
    {
        var known = Known(TimeSpan.FromMinutes(1));
        var readStarted = known.Now();
        clock.Advance(TimeSpan.FromMilliseconds(5));
        known.Saw("acct", "run", new RunMark(5, 9, RunStatus.Running), known.Now());

        // A read that began before the write landed answers after it, with the version before the write.
        known.Saw("acct", "run", new RunMark(4, 7, RunStatus.Running), readStarted);
        known.Saw("acct", "run", new RunMark(4, 7, RunStatus.Running), known.Now());

        Assert.Multiple(() =>
        {
            Assert.That(known.Recent("run")?.Mark, Is.EqualTo(new RunMark(5, 9, RunStatus.Running)));
            Assert.That(known.Latest("run"), Is.EqualTo(5));
        });
    }

    [Test]
    public void Recent_WindowOfZeroOrUnknownRun_AsksStorage()
    {
        var none = Known(TimeSpan.Zero);
        none.Saw("acct", "run", new RunMark(1, 1, RunStatus.Queued), none.Now());

        Assert.Multiple(() =>
        {
            Assert.That(none.Recent("run"), Is.Null);
            Assert.That(Known(TimeSpan.FromMinutes(1)).Recent("run"), Is.Null);
        });
    }

    [Test]
    public void Saw_PastTheBound_ForgetsTheRunsUsedLongestAgoFirst()
    {
        // Room for about twenty runs of marks alone (256 each).
        var known = new KnownRuns(Options.Create(new StorageOptions { ReadFreshnessMs = 60_000, KnownRunsCapacity = 20 * 256 }), clock);
        for (var i = 0; i < 100; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(1));
            known.Saw("acct", $"run{i:D3}", new RunMark(1, 1, RunStatus.Running), known.Now());
        }

        Assert.Multiple(() =>
        {
            Assert.That(known.Count, Is.InRange(1, 20));
            Assert.That(known.Latest("run099"), Is.EqualTo(1), "the run learned last is kept");
            Assert.That(known.Latest("run000"), Is.Zero, "the run learned first is forgotten");
        });
    }

    (TableRunStore Runs, TableRunEventStore Events) Stores(TimeSpan window)
    {
        var known = Known(window);
        return (new TableRunStore(tables, TimeProvider.System, [], known: known), new TableRunEventStore(tables, known));
    }

    KnownRuns Known(TimeSpan window) =>
        new(Options.Create(new StorageOptions { ReadFreshnessMs = (int)window.TotalMilliseconds }), clock);

    /// <summary>Everything a client reads of the run, with times to the millisecond (what storage keeps of them).</summary>
    static string Describe(RunRecord run) => JsonSerializer.Serialize(run with
    {
        CreatedAt = Millis(run.CreatedAt),
        UpdatedAt = Millis(run.UpdatedAt),
        Tasks = run.Tasks.Select(t => t with { StartedAt = Millis(t.StartedAt), CompletedAt = Millis(t.CompletedAt), WaitingSince = Millis(t.WaitingSince) }).ToList(),
        Events = run.Events.Select(e => e with { At = Millis(e.At) }).ToList(),
    });

    static DateTimeOffset Millis(DateTimeOffset at) => new(at.Ticks - at.Ticks % TimeSpan.TicksPerMillisecond, at.Offset);

    static DateTimeOffset? Millis(DateTimeOffset? at) => at is { } value ? Millis(value) : null;

    static async Task<(string AccountId, string RunId)> CreateRunAsync(TableRunStore store)
    {
        var account = Ids.NewAccountId();
        var now = DateTimeOffset.UtcNow;
        var definition = new RunDefinition("Research competitors, then write a report.", [new AgentSpec("research")], [], [], false, null, 3600);
        var run = RunRecord.Queued(Ids.NewRunId(now), account, definition, now);
        await store.CreateAsync(run, CancellationToken.None);
        return (account, run.RunId);
    }
}
