using Microsoft.DurableTask;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Orchflow.Abstractions;
using Orchflow.Activities;
using Orchflow.Domain;
using Orchflow.Orchestrators;

namespace Orchflow.Tests.Activities;

/// <summary>
/// The agent activity's writes: it records its own start (when left to it) before it calls anything, stops if the run
/// ended, records its result as decided on the run as it is then, and says whether that result stands.
/// </summary>
[TestFixture]
public sealed class ExecuteAgentTaskActivityStartTests
{
    const string AccountId = "acct-1";
    const string RunId = "run-1";

    [Test]
    public async Task RunAsync_RunEndedBeforeTheTaskStarted_CallsNoModelAndReportsNothingRecorded()
    {
        var runs = Store(RunStatus.Cancelled, TaskState.Cancelled);
        var models = new Mock<IRunModelFactory>(MockBehavior.Strict);

        var result = await Activity(runs, models).RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T2", false));

        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(new AgentTaskResult(Recorded: false)));
            Assert.That(runs.Calls, Has.Count.EqualTo(1).And.All.StartWith("change refused"));
        });
    }

    [Test]
    public async Task RunAsync_StartRecorded_RunsTheTaskOnTheRunTheStartLeftAndRecordsTheResultWithItsCost()
    {
        var runs = Store(RunStatus.Running, TaskState.Pending);
        var (models, calls) = Model("Findings.", new TokenUsage(1, 2), runs);

        var result = await Activity(runs, models).RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T2", false));

        var run = runs.Run(RunId);
        Assert.Multiple(() =>
        {
            Assert.That(calls, Is.EqualTo(new[] { "change", "model", "change" }), "no read between the start and the model: the start's run serves");
            Assert.That(result, Is.EqualTo(new AgentTaskResult(Recorded: true, "Findings.".Length)));
            Assert.That(run.Tasks[1].State, Is.EqualTo(TaskState.Completed));
            Assert.That(run.Tasks[1].Output, Is.EqualTo("Findings."));
            Assert.That(run.Tasks[1].Usage, Is.EqualTo(new TokenUsage(1, 2)));
            Assert.That(run.Usage, Is.EqualTo(new TokenUsage(11, 22)), "the task's cost adds to the run's");
        });
    }

    [Test]
    public async Task RunAsync_StartAlreadyRecordedByTheBatch_ReadsTheRunAndLeavesTheDraftWaiting()
    {
        var runs = Store(RunStatus.Running, TaskState.Running);
        var (models, calls) = Model("A draft.", new TokenUsage(1, 2), runs);

        var result = await Activity(runs, models).RunAsync(Mock.Of<TaskActivityContext>(),
            new AgentTaskInput(AccountId, RunId, "T2", AwaitApproval: true, RecordStart: false));

        Assert.Multiple(() =>
        {
            Assert.That(calls, Is.EqualTo(new[] { "read", "model", "change" }));
            Assert.That(result.Recorded, Is.True);
            Assert.That(runs.Run(RunId).Tasks[1].State, Is.EqualTo(TaskState.WaitingHuman));
            Assert.That(runs.Run(RunId).Status, Is.EqualTo(RunStatus.WaitingHuman), "T1 and T2 both wait, nothing runs");
        });
    }

    [Test]
    public async Task RunAsync_RunCancelledWhileTheModelWorked_DropsTheOutput()
    {
        var runs = Store(RunStatus.Running, TaskState.Pending);
        var (models, _) = Model("Findings.", new TokenUsage(1, 2), runs, whileCalled: () =>
            runs.ChangeAsync(AccountId, RunId, (run, now) => RunTransitions.Cancel(run, now), CancellationToken.None));

        var result = await Activity(runs, models).RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T2", false));

        Assert.Multiple(() =>
        {
            Assert.That(result.Recorded, Is.False);
            Assert.That(runs.Run(RunId).Tasks[1].State, Is.EqualTo(TaskState.Cancelled));
            Assert.That(runs.Run(RunId).Tasks[1].Output, Is.Null);
        });
    }

    [Test]
    public async Task RunAsync_DeliveredAgainAfterItsResultWasRecorded_CallsNoModelAndSaysTheResultStands()
    {
        var runs = Store(RunStatus.Running, TaskState.Completed);
        var models = new Mock<IRunModelFactory>(MockBehavior.Strict);

        var result = await Activity(runs, models).RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T2", false));

        Assert.That(result.Recorded, Is.True);
    }

    /// <summary>A run whose T1 waits for a person and whose T2 is in <paramref name="task"/>, its cost so far 10 in and 20 out.</summary>
    static InMemoryRunStore Store(RunStatus status, TaskState task)
    {
        var now = DateTimeOffset.UtcNow;
        var store = new InMemoryRunStore();
        store.Put(new RunRecord
        {
            RunId = RunId, AccountId = AccountId, Status = status, Definition = new RunDefinition("Plan our launch.", [], [], [], false, null, null),
            CreatedAt = now, UpdatedAt = now, Usage = new TokenUsage(10, 20),
            Tasks =
            [
                new TaskRecord { TaskId = "T1", Name = "Budget", Kind = TaskKind.Human, State = status == RunStatus.Cancelled ? TaskState.Cancelled : TaskState.WaitingHuman },
                new TaskRecord { TaskId = "T2", Name = "Research", Kind = TaskKind.Agent, Agent = "research", State = task },
            ],
        });
        return store;
    }

    /// <summary>A model that answers <paramref name="output"/>, noting its call among the store's.</summary>
    static (Mock<IRunModelFactory> Models, List<string> Calls) Model(string output, TokenUsage usage, InMemoryRunStore runs, Func<Task>? whileCalled = null)
    {
        var model = new Mock<IRunModel>(MockBehavior.Strict);
        model.Setup(m => m.RunTaskAsync(It.IsAny<AgentTaskRequest>(), It.IsAny<CancellationToken>()))
            .Returns(async () =>
            {
                runs.Calls.Add("model");
                if (whileCalled is not null)
                {
                    await whileCalled();
                }

                return new ModelReply<string>(output, usage);
            });
        var models = new Mock<IRunModelFactory>(MockBehavior.Strict);
        models.Setup(f => f.ForRunAsync(AccountId, null, It.IsAny<CancellationToken>())).ReturnsAsync(model.Object);
        return (models, runs.Calls);
    }

    static ExecuteAgentTaskActivity Activity(IRunStore runs, Mock<IRunModelFactory> models) =>
        new(runs, models.Object, new FakeToolbox(), new MemoryLiveOutputStore().Outputs(), Options.Create(new EngineOptions()), NullLogger<ExecuteAgentTaskActivity>.Instance);
}
