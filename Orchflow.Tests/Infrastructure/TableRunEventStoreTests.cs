using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>
/// The event log as the run store writes it (Azurite): one event per change of a task's state or the run's status,
/// numbered without gaps, nothing logged twice when a write is repeated, and every read of the run explained by its log.
/// </summary>
[TestFixture]
public sealed class TableRunEventStoreTests
{
    OrchflowTables tables = null!;
    TableRunStore runs = null!;
    TableRunEventStore events = null!;
    readonly List<(string RunId, IReadOnlyList<RunLogEntry> Entries)> told = [];

    [OneTimeSetUp]
    public void CreateStores()
    {
        tables = StorageFixture.NewTables();
        runs = new TableRunStore(tables, TimeProvider.System, [new Recorder(told)]);
        events = new TableRunEventStore(tables);
    }

    [Test]
    public async Task CreateAsync_NewRun_LogsRunQueuedAsEventOne()
    {
        var (account, runId) = await CreateAsync();

        var page = await events.ListAsync(account, runId, 0, 100, CancellationToken.None);

        Assert.That(page, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(page!.Events.Select(e => (e.Sequence, e.Type)), Is.EqualTo(new[] { (1L, EventTypes.RunQueued) }));
            Assert.That(page.Mark.Sequence, Is.EqualTo(1));
            Assert.That(page.Mark.Status, Is.EqualTo(RunStatus.Queued));
        });
    }

    [Test]
    public async Task Lifecycle_EveryChange_LogsOneEventInOrder()
    {
        var (account, runId) = await CreateAsync();
        await runs.BeginPlanningAsync(account, runId);
        await runs.SavePlanAsync(account, runId, Plan());
        await runs.StartAsync(account, runId, ["T1"], ["T2"]);
        await runs.FinishAsync(account, runId, "T2", "Research output.");
        await runs.AnswerAsync(account, runId, "T1", new HumanAnswer(null, "The human's answer.", null));
        await runs.StartAsync(account, runId, [], ["T3"]);
        await runs.FailAsync(account, runId, "Task T3 failed: boom", "T3");

        var log = (await events.ListAsync(account, runId, 0, 100, CancellationToken.None))!.Events;

        Assert.That(log.Select(e => e.Sequence), Is.EqualTo(Enumerable.Range(1, log.Count).Select(i => (long)i)), "numbered from 1 without gaps");
        Assert.That(log.Select(e => $"{e.Type} {e.TaskId}".Trim()), Is.EqualTo(new[]
        {
            "run.queued", "run.planning", "run.planned",
            "task.waiting_human T1", "task.started T2", "run.running",
            "task.completed T2", "run.waiting_human",
            "task.completed T1", "run.running",
            "task.started T3",
            "task.failed T3", "run.failed",
        }));
        Assert.Multiple(() =>
        {
            Assert.That(log[2].Data["task_count"]!.GetValue<int>(), Is.EqualTo(3));
            Assert.That(log[2].Data["planned_by"]!.GetValue<string>(), Is.EqualTo("test"));
            Assert.That(log[3].Data["prompt"]!.GetValue<string>(), Is.EqualTo("What do you know?"));
            Assert.That(log[7].Data["waiting_on"]!.AsArray().Select(n => n!.GetValue<string>()), Is.EqualTo(new[] { "T1" }));
            Assert.That(log[^1].Data["error"]!.GetValue<string>(), Is.EqualTo("Task T3 failed: boom"));
            Assert.That(log[^2].Data["error"]!.GetValue<string>(), Is.EqualTo("Task T3 failed: boom"));
            Assert.That(string.Join("\n", log.Select(e => e.Data.ToJsonString())), Does.Not.Contain("Research output").And.Not.Contain("human's answer"),
                "outputs are read from the run, never copied into events");
        });
    }

    [Test]
    public async Task ChangeAsync_SameStartTwice_LogsItOnce()
    {
        var (account, runId) = await CreatePlannedAsync();

        await runs.StartAsync(account, runId, [], ["T2"]);
        var version = (await events.MarkAsync(account, runId, CancellationToken.None))!.Version;
        var again = await runs.StartAsync(account, runId, [], ["T2"]);

        var page = (await events.ListAsync(account, runId, 0, 100, CancellationToken.None))!;
        Assert.Multiple(() =>
        {
            Assert.That(again!.Decision, Is.SameAs(Decision.Unchanged));
            Assert.That(page.Events.Count(e => e.Type == EventTypes.TaskStarted), Is.EqualTo(1));
            Assert.That(page.Events.Count(e => e.Type == EventTypes.RunRunning), Is.EqualTo(1));
            Assert.That(page.Mark.Version, Is.EqualTo(version), "a repeated start writes nothing");
        });
    }

    [Test]
    public async Task CancelAsync_RacingTransitions_LeavesALogThatExplainsTheRun()
    {
        for (var round = 0; round < 5; round++)
        {
            var (account, runId) = await CreatePlannedAsync();

            await Task.WhenAll(
                runs.CancelAsync(account, runId),
                runs.StartAsync(account, runId, ["T1"], ["T2"]),
                runs.StartAsync(account, runId, [], ["T2"]));

            var run = (await runs.GetAsync(account, runId, CancellationToken.None))!;
            var log = (await events.ListAsync(account, runId, 0, 1000, CancellationToken.None))!.Events;
            Assert.Multiple(() =>
            {
                Assert.That(log.Select(e => e.Sequence), Is.EqualTo(Enumerable.Range(1, log.Count).Select(i => (long)i)));
                Assert.That(run.Sequence, Is.EqualTo(log.Count));
                Assert.That(run.Status, Is.EqualTo(RunStatus.Cancelled));
                Assert.That(log[^1].Type, Is.EqualTo(EventTypes.RunCancelled), "the terminal event comes last");
                Assert.That(Replay(log), Is.EqualTo(run.Tasks.ToDictionary(t => t.TaskId, t => t.State.ToWire())), "each task's state is the last its log announced");
            });
        }
    }

    [Test]
    public async Task ReadAsync_AfterASequence_ReturnsTheNextEventsOnly()
    {
        var (account, runId) = await CreatePlannedAsync();

        var tail = await events.ReadAsync(runId, 2, 1, CancellationToken.None);
        var none = await events.ReadAsync(runId, 99, 10, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(tail.Select(e => (e.Sequence, e.Type)), Is.EqualTo(new[] { (3L, EventTypes.RunPlanned) }));
            Assert.That(none, Is.Empty);
        });
    }

    [Test]
    public async Task ListAsync_AnotherAccountOrUnknownRun_ReturnsNull()
    {
        var (_, runId) = await CreateAsync();

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await events.ListAsync(Ids.NewAccountId(), runId, 0, 100, CancellationToken.None), Is.Null);
            Assert.That(await events.MarkAsync(Ids.NewAccountId(), runId, CancellationToken.None), Is.Null);
            Assert.That(await events.ListAsync(Ids.NewAccountId(), Ids.NewRunId(DateTimeOffset.UtcNow), 0, 100, CancellationToken.None), Is.Null);
        });
    }

    [Test]
    public async Task Writes_TellTheObserversWhatTheyLogged()
    {
        var (account, runId) = await CreatePlannedAsync();

        var heard = told.Where(t => t.RunId == runId).SelectMany(t => t.Entries).Select(e => e.Sequence);

        Assert.That(heard, Is.EqualTo(new long[] { 1, 2, 3 }));
    }

    static Dictionary<string, string> Replay(IReadOnlyList<RunLogEntry> log)
    {
        var states = new Dictionary<string, string> { ["T1"] = "pending", ["T2"] = "pending", ["T3"] = "pending" };
        foreach (var e in log.Where(e => e.TaskId is not null))
        {
            states[e.TaskId!] = e.Type switch
            {
                EventTypes.TaskStarted or EventTypes.TaskRevisionRequested => "running",
                _ => e.Type["task.".Length..],
            };
        }

        return states;
    }

    async Task<(string AccountId, string RunId)> CreateAsync()
    {
        var account = Ids.NewAccountId();
        var now = DateTimeOffset.UtcNow;
        var run = new RunRecord
        {
            RunId = Ids.NewRunId(now),
            AccountId = account,
            Status = RunStatus.Queued,
            Definition = new RunDefinition("Research pricing, then write a memo.", [new AgentSpec("research")], [], [], false, null, null),
            CreatedAt = now,
            UpdatedAt = now,
        };
        await runs.CreateAsync(run, CancellationToken.None);
        return (account, run.RunId);
    }

    async Task<(string AccountId, string RunId)> CreatePlannedAsync()
    {
        var (account, runId) = await CreateAsync();
        await runs.BeginPlanningAsync(account, runId);
        await runs.SavePlanAsync(account, runId, Plan());
        return (account, runId);
    }

    static RunPlan Plan() => new(
    [
        new PlannedTask("T1", "Provide context", "Context from a person", TaskKind.Human, null, [], "What do you know?"),
        new PlannedTask("T2", "Research pricing", "Research", TaskKind.Agent, "research", []),
        new PlannedTask("T3", "Write the memo", "Write", TaskKind.Agent, "writer", ["T1", "T2"]),
    ], "test");

    sealed class Recorder(List<(string, IReadOnlyList<RunLogEntry>)> heard) : IRunLogObserver
    {
        public void Logged(string accountId, string runId, IReadOnlyList<RunLogEntry> entries)
        {
            lock (heard)
            {
                heard.Add((runId, entries));
            }
        }
    }
}
