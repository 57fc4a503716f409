using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Infrastructure.Storage;
using Orchflow.Tests.Models;

namespace Orchflow.Tests.Infrastructure;

/// <summary>
/// A run's row in its account's listing (Azurite): a change of its tokens alone, within a second of the row's last
/// write, is written once at that second's end; a change of status is written at once, tokens and all.
/// </summary>
[TestFixture]
public sealed class ListingTokensTests
{
    readonly ManualTimeProvider clock = new(DateTimeOffset.UtcNow);
    OrchflowTables tables = null!;
    TableRunStore store = null!;

    [SetUp]
    public void CreateStore()
    {
        tables = StorageFixture.NewTables();
        store = new TableRunStore(tables, clock, [], known: new KnownRuns(Options.Create(new StorageOptions()), clock));
    }

    [Test]
    public async Task TokensAlone_WithinTheWindow_AreListedOnceAtItsEnd()
    {
        var (account, runId) = await TwoAgentsRunningAsync();
        var before = await ListedAsync(account);

        var finished = await store.FinishAsync(account, runId, "T1", "Research done.", usage: new TokenUsage(10, 20));
        var during = await ListedAsync(account);
        clock.Advance(ListingRows.TokensWindow);
        var after = await EventuallyListedAsync(account, r => r.Usage.OutputTokens == 22);

        Assert.Multiple(() =>
        {
            Assert.That(finished!.Before.Status, Is.EqualTo(finished.Run.Status), "the change moved the tokens alone");
            Assert.That(during.Usage, Is.EqualTo(before.Usage), "within the window the row waits");
            Assert.That(after.Usage, Is.EqualTo(new TokenUsage(11, 22)), "at its end the row holds the run's tokens");
            Assert.That(after.UpdatedAt, Is.EqualTo(finished.Run.UpdatedAt), "updated when the tokens changed, not when the row was written");
        });
    }

    [Test]
    public async Task StatusChange_WithinTheWindow_IsListedAtOnceWithTheTokens()
    {
        var (account, runId) = await TwoAgentsRunningAsync();
        await store.FinishAsync(account, runId, "T1", "Research done.", usage: new TokenUsage(10, 20));

        await store.CancelAsync(account, runId);
        var listed = await ListedAsync(account);

        Assert.Multiple(() =>
        {
            Assert.That(listed.Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(listed.Usage, Is.EqualTo(new TokenUsage(11, 22)));
        });
    }

    /// <summary>A run of two agent tasks side by side, both running: the first to finish leaves the run running.</summary>
    async Task<(string AccountId, string RunId)> TwoAgentsRunningAsync()
    {
        var account = Ids.NewAccountId();
        var run = StoredRuns.New(account, clock.GetUtcNow());
        await store.CreateAsync(run, CancellationToken.None);
        await store.BeginPlanningAsync(account, run.RunId);
        var plan = new RunPlan(
            [
                new PlannedTask("T1", "Research", "Research the market", TaskKind.Agent, "research", []),
                new PlannedTask("T2", "Analyse", "Analyse the numbers", TaskKind.Agent, "analyst", []),
            ], "test");
        Assert.That(await store.SavePlanAsync(account, run.RunId, plan, usage: new TokenUsage(1, 2)), Has.Property(nameof(RunChange.Refusal)).Null);
        Assert.That(await store.StartAsync(account, run.RunId, [], ["T1", "T2"]), Has.Property(nameof(RunChange.Refusal)).Null);
        return (account, run.RunId);
    }

    async Task<RunRecord> ListedAsync(string account) => (await store.ListAsync(account, 1, 0, CancellationToken.None)).Runs.Single();

    async Task<RunRecord> EventuallyListedAsync(string account, Func<RunRecord, bool> holds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var listed = await ListedAsync(account);
            if (holds(listed) || DateTime.UtcNow > deadline)
            {
                return listed;
            }

            await Task.Delay(20);
        }
    }
}
