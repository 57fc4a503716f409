using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>
/// The run store and its outbox (Azurite): every commit that logs events tells the outbox before the batch is
/// submitted, when the events are not yet readable, and confirms once they are; a commit that logs nothing does not.
/// </summary>
[TestFixture]
public sealed class RunLogOutboxTests
{
    OrchflowTables tables = null!;
    TableRunEventStore events = null!;
    Recorder outbox = null!;
    TableRunStore runs = null!;

    [OneTimeSetUp]
    public void CreateStores()
    {
        tables = StorageFixture.NewTables();
        events = new TableRunEventStore(tables);
        outbox = new Recorder(events);
        runs = new TableRunStore(tables, TimeProvider.System, [], outbox);
    }

    [Test]
    public async Task Commits_EachLoggingEvents_PreparedBeforeTheyAreReadableAndConfirmedAfter()
    {
        var now = DateTimeOffset.UtcNow;
        var account = Ids.NewAccountId();
        var runId = Ids.NewRunId(now);
        await runs.CreateAsync(new RunRecord
        {
            RunId = runId, AccountId = account, Status = RunStatus.Queued, CreatedAt = now, UpdatedAt = now,
            Definition = new RunDefinition("Research pricing.", [new AgentSpec("research")], [], [], false, null, null),
        }, CancellationToken.None);
        await runs.BeginPlanningAsync(account, runId);
        await runs.BeginPlanningAsync(account, runId);
        await runs.CancelAsync(account, runId);

        Assert.That(outbox.Steps, Is.EqualTo(new[]
        {
            $"prepare {account} {runId} 1-1 (readable: 0)", "confirm 1-1 (readable: 1)",
            $"prepare {account} {runId} 2-2 (readable: 1)", "confirm 2-2 (readable: 2)",
            $"prepare {account} {runId} 3-3 (readable: 2)", "confirm 3-3 (readable: 3)",
        }), "the repeated change logs nothing and tells nobody");
    }

    /// <summary>Notes each call and how much of the log could be read at that moment.</summary>
    sealed class Recorder(TableRunEventStore events) : IRunLogOutbox
    {
        readonly Dictionary<string, (string RunId, long From, long To)> notices = [];

        public List<string> Steps { get; } = [];

        public async Task<RunLogNotice?> PrepareAsync(string accountId, string runId, IReadOnlyList<RunLogEntry> entries, CancellationToken cancellationToken)
        {
            var readable = (await events.ReadAsync(runId, 0, 1000, cancellationToken)).Count;
            var id = Guid.NewGuid().ToString("N");
            notices[id] = (runId, entries[0].Sequence, entries[^1].Sequence);
            Steps.Add($"prepare {accountId} {runId} {entries[0].Sequence}-{entries[^1].Sequence} (readable: {readable})");
            return new RunLogNotice(id, "receipt");
        }

        public async Task ConfirmAsync(RunLogNotice notice, CancellationToken cancellationToken)
        {
            var (runId, from, to) = notices[notice.MessageId];
            var readable = (await events.ReadAsync(runId, 0, 1000, cancellationToken)).Count;
            Steps.Add($"confirm {from}-{to} (readable: {readable})");
        }

        public Task AbandonAsync(RunLogNotice notice, CancellationToken cancellationToken)
        {
            Steps.Add("abandon");
            return Task.CompletedTask;
        }
    }
}
