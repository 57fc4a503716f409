using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Infrastructure.Storage;
using Orchflow.Tests.Models;

namespace Orchflow.Tests.Infrastructure;

/// <summary>
/// Active-run places on Azurite: the limit holds under concurrent starts, an ended run gives its place back through the
/// run store, a place left behind by a run that ended is given back at the limit, and a start under way keeps its own.
/// </summary>
[TestFixture]
public sealed class TableActiveRunsTests
{
    readonly ManualTimeProvider clock = new(DateTimeOffset.UtcNow);
    OrchflowTables tables = null!;
    TableActiveRuns active = null!;
    TableRunStore runs = null!;
    string account = null!;

    [SetUp]
    public void NewTables()
    {
        tables = StorageFixture.NewTables();
        active = new TableActiveRuns(tables, clock);
        runs = new TableRunStore(tables, clock, []);
        account = Ids.NewAccountId();
    }

    /// <summary>A run started as <c>POST /runs</c> does it: its place first, then its rows.</summary>
    async Task<ActiveRunPlace> StartAsync(string accountId, int max, string? runId = null)
    {
        var run = StoredRuns.New(accountId, clock.GetUtcNow());
        run = runId is null ? run : run with { RunId = runId };
        var place = await active.TryTakeAsync(accountId, run.RunId, 0, max, CancellationToken.None);
        if (place.Taken)
        {
            await runs.CreateAsync(run, CancellationToken.None);
        }

        return place;
    }

    /// <summary>Places and a run store whose storage requests are counted.</summary>
    async Task<(CountedRequests Requests, TableActiveRuns Places, TableRunStore Store)> CountedAsync()
    {
        var requests = new CountedRequests();
        var counted = requests.Tables();
        await counted.EnsureCreatedAsync();
        return (requests, new TableActiveRuns(counted, clock), new TableRunStore(counted, clock, []));
    }

    async Task<string> StartedRunAsync(int max)
    {
        var runId = Ids.NewRunId(clock.GetUtcNow());
        Assert.That((await StartAsync(account, max, runId)).Taken, Is.True);
        return runId;
    }

    [Test]
    public async Task TryTakeAsync_AtTheLimit_RefusedWithTheCountWhileAnotherAccountIsNot()
    {
        await StartedRunAsync(2);
        await StartedRunAsync(2);

        var refused = await StartAsync(account, 2);
        var other = await StartAsync(Ids.NewAccountId(), 2);

        Assert.Multiple(() =>
        {
            Assert.That(refused, Is.EqualTo(new ActiveRunPlace(PlaceOutcome.Full, 2)));
            Assert.That(other.Taken, Is.True);
        });
    }

    [Test]
    public async Task TryTakeAsync_TenStartsAtOnce_NeverMoreThanTheLimit()
    {
        var places = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => StartAsync(account, 3)));

        Assert.Multiple(async () =>
        {
            Assert.That(places.Count(p => p.Taken), Is.EqualTo(3));
            Assert.That(places.Where(p => !p.Taken).Select(p => p.Active), Is.All.EqualTo(3));
            Assert.That(await new CountedPartition(tables.Accounts, TableActiveRuns.Partition(account)).CountAsync(CancellationToken.None), Is.EqualTo(3));
        });
    }

    [TestCase("cancelled")]
    [TestCase("failed")]
    [TestCase("completed")]
    public async Task ChangeAsync_RunEnds_GivesItsPlaceBack(string end)
    {
        var (accountId, runId) = await StoredRuns.CreatePlannedAsync(runs, taskCount: 2);
        Assert.That((await active.TryTakeAsync(accountId, runId, 0, 1, CancellationToken.None)).Taken, Is.True);
        Assert.That((await StartAsync(accountId, 1)).Taken, Is.False);

        if (end == "completed")
        {
            await StoredRuns.FinishEveryTaskAsync(runs, accountId, runId);
        }

        var ended = end switch
        {
            "cancelled" => await runs.CancelAsync(accountId, runId),
            "failed" => await runs.FailAsync(accountId, runId, "The model failed."),
            _ => await runs.CompleteAsync(accountId, runId, "Done."),
        };

        Assert.Multiple(async () =>
        {
            Assert.That(ended?.Run.Status.ToWire(), Is.EqualTo(end));
            Assert.That((await StartAsync(accountId, 1)).Taken, Is.True);
        });
    }

    [Test]
    public async Task TryTakeAsync_PlaceOfARunThatEndedWithoutGivingItBack_IsGivenBackAtTheLimit()
    {
        var ended = await StartedRunAsync(2);
        await runs.CancelAsync(account, ended);
        // As if the process had stopped between the run's end and giving its place back: the place is there again.
        Assert.That((await active.TryTakeAsync(account, ended, 0, 2, CancellationToken.None)).Taken, Is.True);
        var going = await StartedRunAsync(2);

        var place = await StartAsync(account, 2);
        var after = await new CountedPartition(tables.Accounts, TableActiveRuns.Partition(account)).ItemsAsync(CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(place, Is.EqualTo(new ActiveRunPlace(PlaceOutcome.Taken, 2)));
            Assert.That(after.Select(p => p.GetString("RunId")), Does.Contain(going).And.Not.Contain(ended));
        });
    }

    [Test]
    public async Task TryTakeAsync_PlaceOfAStartUnderWay_IsKeptUntilItIsStale()
    {
        // A place taken for a run whose rows are not written yet: its start is still under way.
        Assert.That((await active.TryTakeAsync(account, Ids.NewRunId(clock.GetUtcNow()), 0, 1, CancellationToken.None)).Taken, Is.True);

        var meanwhile = await StartAsync(account, 1);
        clock.Advance(TableActiveRuns.StartGrace);
        var later = await StartAsync(account, 1);

        Assert.Multiple(() =>
        {
            Assert.That(meanwhile.Taken, Is.False);
            Assert.That(later.Taken, Is.True);
        });
    }

    [Test]
    public async Task TryTakeAsync_PlaceOfARetriedRunsEarlierAttempt_IsGivenBackAtTheLimit()
    {
        var runId = await StartedRunAsync(1);
        await runs.BeginPlanningAsync(account, runId);
        await runs.CancelAsync(account, runId);
        Assert.That((await active.TryTakeAsync(account, runId, 1, 1, CancellationToken.None)).Taken, Is.True);
        Assert.That(await runs.ChangeAsync(account, runId, (run, _) => RunTransitions.Retry(run), CancellationToken.None),
            Has.Property(nameof(RunChange.Refusal)).Null);
        // Attempt 0's place, back as if its release had been lost: attempt 1 is the run's now.
        await active.TryTakeAsync(account, runId, 0, 2, CancellationToken.None);

        var place = await StartAsync(account, 2);

        Assert.That(place, Is.EqualTo(new ActiveRunPlace(PlaceOutcome.Taken, 2)), "attempt 0's place is given back; attempt 1 keeps its own");
    }

    [TestCase(3)]
    [TestCase(1)]
    public async Task TryTakeAsync_FiveRetriesOfOneAttemptAtOnce_OneTakesThePlaceAndTheOthersFindItHeld(int max)
    {
        var runId = await StartedRunAsync(3);
        await runs.CancelAsync(account, runId);

        // With a limit of 1 the place taken is the last one free: the others find the account full, and then their place held.
        var places = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => active.TryTakeAsync(account, runId, 1, max, CancellationToken.None)));

        Assert.Multiple(async () =>
        {
            Assert.That(places.Select(p => p.Outcome), Is.EquivalentTo(new[]
            {
                PlaceOutcome.Taken, PlaceOutcome.HeldByAnother, PlaceOutcome.HeldByAnother, PlaceOutcome.HeldByAnother, PlaceOutcome.HeldByAnother,
            }));
            Assert.That(await new CountedPartition(tables.Accounts, TableActiveRuns.Partition(account)).CountAsync(CancellationToken.None), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task TryTakeAsync_PlaceOfARetryThatGaveUpWithoutGivingItBack_IsTakenOverOnceStale()
    {
        var runId = await StartedRunAsync(3);
        await runs.CancelAsync(account, runId);
        // A retry that took attempt 1's place and stopped before moving the run on or giving the place back.
        Assert.That((await active.TryTakeAsync(account, runId, 1, 3, CancellationToken.None)).Taken, Is.True);

        var meanwhile = await active.TryTakeAsync(account, runId, 1, 3, CancellationToken.None);
        clock.Advance(TableActiveRuns.StartGrace);
        var later = await active.TryTakeAsync(account, runId, 1, 3, CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(meanwhile.Outcome, Is.EqualTo(PlaceOutcome.HeldByAnother));
            Assert.That(later.Outcome, Is.EqualTo(PlaceOutcome.Taken));
            Assert.That(await new CountedPartition(tables.Accounts, TableActiveRuns.Partition(account)).CountAsync(CancellationToken.None), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task ReleaseUnlessActiveAsync_RunGoingAtThatAttempt_KeepsThePlace()
    {
        var runId = await StartedRunAsync(1);

        await active.ReleaseUnlessActiveAsync(account, runId, 0, CancellationToken.None);

        Assert.That((await StartAsync(account, 1)).Taken, Is.False);
    }

    [Test]
    public async Task ReleaseUnlessActiveAsync_StartThatNeverWroteItsRun_GivesThePlaceBack()
    {
        var runId = Ids.NewRunId(clock.GetUtcNow());
        await active.TryTakeAsync(account, runId, 0, 1, CancellationToken.None);

        await active.ReleaseUnlessActiveAsync(account, runId, 0, CancellationToken.None);

        Assert.That((await StartAsync(account, 1)).Taken, Is.True);
    }

    [Test]
    public async Task TryTakeAsync_StartsRefusedAtTheLimitOneAfterAnother_ReadTheAccountsRunsOnceAWhile()
    {
        var (requests, places, store) = await CountedAsync();
        for (var i = 0; i < 5; i++)
        {
            var run = StoredRuns.New(account, clock.GetUtcNow());
            await places.TryTakeAsync(account, run.RunId, 0, 5, CancellationToken.None);
            await store.CreateAsync(run, CancellationToken.None);
        }

        var first = await requests.OfAsync(() => places.TryTakeAsync(account, Ids.NewRunId(clock.GetUtcNow()), 0, 5, CancellationToken.None));
        var next = await requests.OfAsync(() => places.TryTakeAsync(account, Ids.NewRunId(clock.GetUtcNow()), 0, 5, CancellationToken.None));
        clock.Advance(TableActiveRuns.SweepEvery);
        var later = await requests.OfAsync(() => places.TryTakeAsync(account, Ids.NewRunId(clock.GetUtcNow()), 0, 5, CancellationToken.None));

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(1 + 1 + 5), "the guard, the places, and each place's run");
            Assert.That(next, Is.EqualTo(1), "the guard alone: the places were looked at just now");
            Assert.That(later, Is.EqualTo(first), "looked at again once the interval has passed");
        });
    }

    [Test]
    public async Task TryTakeAsync_PlaceLeftBehindJustAfterALook_IsGivenBackAtTheNextLook()
    {
        var ended = await StartedRunAsync(2);
        await StartedRunAsync(2);
        Assert.That((await StartAsync(account, 2)).Taken, Is.False, "at the limit; the places were looked at");
        await runs.CancelAsync(account, ended);
        // As if the process had stopped between the run's end and giving its place back.
        Assert.That((await active.TryTakeAsync(account, ended, 0, 2, CancellationToken.None)).Taken, Is.True);

        var meanwhile = await StartAsync(account, 2);
        clock.Advance(TableActiveRuns.SweepEvery);
        var later = await StartAsync(account, 2);

        Assert.Multiple(() =>
        {
            Assert.That(meanwhile.Taken, Is.False);
            Assert.That(later.Taken, Is.True);
        });
    }

    [Test]
    public async Task Costs_AStartsPlaceAndItsReturn_TwoStorageRequestsEach()
    {
        var (requests, places, store) = await CountedAsync();
        await places.TryTakeAsync(account, Ids.NewRunId(clock.GetUtcNow()), 0, 10, CancellationToken.None);
        var run = StoredRuns.New(account, clock.GetUtcNow());

        var take = await requests.OfAsync(() => places.TryTakeAsync(account, run.RunId, 0, 10, CancellationToken.None));
        var create = await requests.OfAsync(() => store.CreateAsync(run, CancellationToken.None));
        var cancel = await requests.OfAsync(() => store.CancelAsync(account, run.RunId));
        var release = await requests.OfAsync(() => places.ReleaseAsync(account, run.RunId, 0, CancellationToken.None));

        TestContext.Out.WriteLine($"Storage requests: place {take}, run rows {create}, cancel with its place given back {cancel}, a place given back again {release}.");
        Assert.Multiple(() =>
        {
            Assert.That(take, Is.EqualTo(2), "the guard read, then the batch of the place and the guard");
            Assert.That(release, Is.EqualTo(2), "the guard read, then a batch that finds no place and changes nothing");
        });
    }
}
