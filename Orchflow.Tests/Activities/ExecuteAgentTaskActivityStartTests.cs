using Microsoft.DurableTask;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Orchflow.Abstractions;
using Orchflow.Activities;
using Orchflow.Domain;
using Orchflow.Live;
using Orchflow.Orchestrators;
using Orchflow.Tests.Models;

namespace Orchflow.Tests.Activities;

/// <summary>
/// The agent activity's writes: it records its own start (when left to it) while its model call is under way, or with
/// the result when the call answers within its grace, stops if the run ended, records its result as decided on the run as
/// it is then, and says whether that result stands.
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
            Assert.That(runs.Calls, Is.EqualTo(new[] { "read" }), "nothing to write: the run as read says it ended");
        });
    }

    [Test]
    public async Task RunAsync_ModelAnswersWithinTheGrace_RecordsTheStartAndTheResultInOneChangeWithItsCost()
    {
        var runs = Store(RunStatus.Running, TaskState.Pending);
        var (models, calls) = Model("Findings.", new TokenUsage(1, 2), runs);

        var result = await Activity(runs, models).RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T2", false, Reached: 7));

        var run = runs.Run(RunId);
        Assert.Multiple(() =>
        {
            Assert.That(calls, Is.EqualTo(new[] { "read", "model", "change" }), "the start waits for the answer and lands with it");
            Assert.That(runs.ReachedAsked, Is.EqualTo(new[] { 7L }), "the run is read as at least the version the orchestrator knows of");
            Assert.That(runs.Logged.Single(), Is.EqualTo(new[] { "task.started", "task.completed", "run.waiting_human" }), "all announced, in order: T1 still waits");
            Assert.That(result, Is.EqualTo(new AgentTaskResult(Recorded: true, "Findings.".Length, Version: run.Version)));
            Assert.That(run.Tasks[1].State, Is.EqualTo(TaskState.Completed));
            Assert.That(run.Tasks[1].StartedAt, Is.Not.Null.And.LessThanOrEqualTo(run.Tasks[1].CompletedAt!.Value), "started when the call began");
            Assert.That(run.Tasks[1].Output, Is.EqualTo("Findings."));
            Assert.That(run.Tasks[1].Usage, Is.EqualTo(new TokenUsage(1, 2)));
            Assert.That(run.Usage, Is.EqualTo(new TokenUsage(11, 22)), "the task's cost adds to the run's");
        });
    }

    [Test]
    public async Task RunAsync_ModelSlowerThanTheGrace_RecordsTheStartWhileTheCallGoesOnAndShowsItsTextOnlyFromThere()
    {
        var runs = Store(RunStatus.Running, TaskState.Pending);
        var live = new MemoryLiveOutputStore().Outputs();
        var shown = new List<string>();
        runs.OnChange = () => shown.Add(string.Concat(live.Snapshot(RunId).Select(t => t.Text)));
        var answer = new TaskCompletionSource<ModelReply<string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var model = new Mock<IRunModel>(MockBehavior.Strict);
        model.Setup(m => m.RunTaskAsync(It.IsAny<AgentTaskRequest>(), It.IsAny<CancellationToken>()))
            .Returns((AgentTaskRequest request, CancellationToken _) =>
            {
                request.Output!.Append("Findings");
                return answer.Task;
            });
        var models = new Mock<IRunModelFactory>(MockBehavior.Strict);
        models.Setup(f => f.ForRunAsync(AccountId, null, It.IsAny<CancellationToken>())).ReturnsAsync(model.Object);

        var running = Activity(runs, models, live).RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T2", false));
        await WaitForAsync(() => runs.Run(RunId).Tasks[1].State == TaskState.Running);
        Assert.That(running.IsCompleted, Is.False, "the start is recorded while the model works");
        answer.SetResult(new ModelReply<string>("Findings.", new TokenUsage(1, 2)));
        var result = await running;

        Assert.Multiple(() =>
        {
            Assert.That(runs.Calls, Is.EqualTo(new[] { "read", "change", "change" }));
            Assert.That(runs.Logged, Is.EqualTo(new[] { new[] { "task.started" }, new[] { "task.completed", "run.waiting_human" } }));
            Assert.That(shown, Is.EqualTo(new[] { "", "Findings" }), "no text before the start is recorded; what was held, shown after it");
            Assert.That(result, Is.EqualTo(new AgentTaskResult(Recorded: true, "Findings.".Length, Version: runs.Run(RunId).Version)),
                "the version of the change that landed the output, not the start's");
            Assert.That(live.Snapshot(RunId), Is.Empty, "the writing ended with the task");
        });
    }

    [Test]
    public async Task RunAsync_RunCancelledBeforeASlowCallsStartIsRecorded_StopsTheCallAndRecordsNothing()
    {
        var runs = Store(RunStatus.Running, TaskState.Pending);
        var (models, stopped) = NeverAnswering(whileCalled: () => runs.ChangeAsync(AccountId, RunId, (run, now) => RunTransitions.Cancel(run, now), CancellationToken.None));

        var result = await Activity(runs, models).RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T2", false))
            .WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(new AgentTaskResult(Recorded: false)));
            Assert.That(stopped.Task.IsCompleted, Is.True, "the call was told to stop");
            Assert.That(runs.Calls, Has.Count.EqualTo(3), "read, the cancel, the refused start");
            Assert.That(runs.Calls[^1], Does.StartWith("change refused"));
            Assert.That(runs.Run(RunId).Tasks[1].State, Is.EqualTo(TaskState.Cancelled));
        });
    }

    [Test]
    public async Task RunAsync_CallThatIgnoresBeingStopped_HoldsTheActivityNoLongerThanTheStopWait()
    {
        var runs = Store(RunStatus.Running, TaskState.Pending);
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var model = new Mock<IRunModel>(MockBehavior.Strict);
        model.Setup(m => m.RunTaskAsync(It.IsAny<AgentTaskRequest>(), It.IsAny<CancellationToken>()))
            .Returns(async (AgentTaskRequest _, CancellationToken _) =>
            {
                await runs.ChangeAsync(AccountId, RunId, (run, now) => RunTransitions.Cancel(run, now), CancellationToken.None);
                // Never ends, whatever its token says.
                return await new TaskCompletionSource<ModelReply<string>>().Task;
            });
        var models = new Mock<IRunModelFactory>(MockBehavior.Strict);
        models.Setup(f => f.ForRunAsync(AccountId, null, It.IsAny<CancellationToken>())).ReturnsAsync(model.Object);

        var running = Activity(runs, models, clock: clock).RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T2", false));
        await WaitForAsync(() => clock.DueTimes.Count() == 1);
        clock.Advance(CallUnderway<ModelReply<string>>.Grace);
        await WaitForAsync(() => clock.DueTimes.Count() == 2);
        var waitedFor = clock.DueTimes.Last();
        var doneBeforeTheWait = running.IsCompleted;
        clock.Advance(CallUnderway<ModelReply<string>>.StopWait);
        var result = await running.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(doneBeforeTheWait, Is.False, "the call is given its chance to stop");
            Assert.That(waitedFor, Is.EqualTo(CallUnderway<ModelReply<string>>.StopWait));
            Assert.That(result, Is.EqualTo(new AgentTaskResult(Recorded: false)), "the start was refused: the run was cancelled");
            Assert.That(runs.Run(RunId).Tasks[1].State, Is.EqualTo(TaskState.Cancelled));
        });
    }

    [Test]
    public void RunAsync_ModelFailsWithinTheGrace_RecordsTheStartSoTheFailureFollowsIt()
    {
        var runs = Store(RunStatus.Running, TaskState.Pending);
        var model = new Mock<IRunModel>(MockBehavior.Strict);
        model.Setup(m => m.RunTaskAsync(It.IsAny<AgentTaskRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new HttpRequestException("The provider refused the call."));
        var models = new Mock<IRunModelFactory>(MockBehavior.Strict);
        models.Setup(f => f.ForRunAsync(AccountId, null, It.IsAny<CancellationToken>())).ReturnsAsync(model.Object);

        Assert.ThrowsAsync<HttpRequestException>(() => Activity(runs, models).RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T2", false)));

        Assert.Multiple(() =>
        {
            Assert.That(runs.Logged, Is.EqualTo(new[] { new[] { "task.started" } }), "the engine fails the task after its start");
            Assert.That(runs.Run(RunId).Tasks[1].StartedAt, Is.Not.Null);
        });
    }

    [Test]
    public async Task RunAsync_StartOfASlowCallCannotBeWritten_StopsTheCallAndFails()
    {
        var runs = Store(RunStatus.Running, TaskState.Pending);
        runs.OnChange = () => throw new Azure.RequestFailedException(503, "Storage is unavailable.");
        var (models, stopped) = NeverAnswering();

        Assert.ThrowsAsync<Azure.RequestFailedException>(() => Activity(runs, models).RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T2", false))
            .WaitAsync(TimeSpan.FromSeconds(10)));

        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(stopped.Task.IsCompleted, Is.True, "the call was stopped: a retry of the activity never pays for two calls at once");
    }

    [Test]
    public async Task RunAsync_AnotherExecutionCompletedTheTaskBeforeASlowCallsStart_StopsTheCallAndSaysTheResultStands()
    {
        var runs = Store(RunStatus.Running, TaskState.Pending);
        runs.OnChange = () =>
        {
            var run = runs.Run(RunId);
            runs.Put(run with { Tasks = [run.Tasks[0], run.Tasks[1] with { State = TaskState.Completed, Output = "Done elsewhere." }] });
        };
        var (models, stopped) = NeverAnswering();

        var result = await Activity(runs, models).RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T2", false))
            .WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(result.Recorded, Is.True, "the other execution's output stands");
            Assert.That(stopped.Task.IsCompleted, Is.True, "this execution's call was stopped");
            Assert.That(runs.Run(RunId).Tasks[1].Output, Is.EqualTo("Done elsewhere."));
        });
    }

    [Test]
    public async Task RunAsync_BudgetSpentBeforeTheTaskStarts_RecordsTheStartThenPausesWithoutCallingTheModel()
    {
        var runs = Store(RunStatus.Running, TaskState.Pending, budget: new RunBudget { MaxTokens = 30 });
        var models = new Mock<IRunModelFactory>(MockBehavior.Strict);
        models.Setup(f => f.ForRunAsync(AccountId, null, It.IsAny<CancellationToken>())).ReturnsAsync(Mock.Of<IRunModel>(MockBehavior.Strict));

        var result = await Activity(runs, models).RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T2", false));

        Assert.Multiple(() =>
        {
            Assert.That(result.PausedOnBudget, Is.Not.Null);
            Assert.That(runs.Calls, Is.EqualTo(new[] { "read", "change", "change" }), "the start, then the pause");
            Assert.That(runs.Run(RunId).Tasks[1].State, Is.EqualTo(TaskState.Pending));
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
    static InMemoryRunStore Store(RunStatus status, TaskState task, RunBudget? budget = null)
    {
        var now = DateTimeOffset.UtcNow;
        var store = new InMemoryRunStore();
        store.Put(new RunRecord
        {
            RunId = RunId, AccountId = AccountId, Status = status, Definition = new RunDefinition("Plan our launch.", [], [], [], false, null, null),
            Budget = budget ?? RunBudget.None,
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

    /// <summary>A model whose call never answers and ends only when told to stop, which <c>Stopped</c> then says.</summary>
    static (Mock<IRunModelFactory> Models, TaskCompletionSource Stopped) NeverAnswering(Func<Task>? whileCalled = null)
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var model = new Mock<IRunModel>(MockBehavior.Strict);
        model.Setup(m => m.RunTaskAsync(It.IsAny<AgentTaskRequest>(), It.IsAny<CancellationToken>()))
            .Returns(async (AgentTaskRequest _, CancellationToken token) =>
            {
                if (whileCalled is not null)
                {
                    await whileCalled();
                }

                await using var registration = token.Register(() => stopped.SetResult());
                await Task.Delay(Timeout.Infinite, token);
                return new ModelReply<string>("never", TokenUsage.Zero);
            });
        var models = new Mock<IRunModelFactory>(MockBehavior.Strict);
        models.Setup(f => f.ForRunAsync(AccountId, null, It.IsAny<CancellationToken>())).ReturnsAsync(model.Object);
        return (models, stopped);
    }

    static async Task WaitForAsync(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 5)
        {
            Assert.That(waited, Is.LessThan(10_000), "timed out");
            await Task.Delay(5);
        }
    }

    static ExecuteAgentTaskActivity Activity(IRunStore runs, Mock<IRunModelFactory> models, LiveOutputs? live = null, TimeProvider? clock = null) =>
        new(runs, models.Object, new FakeToolbox(), live ?? new MemoryLiveOutputStore().Outputs(), Options.Create(new EngineOptions()), clock ?? TimeProvider.System,
            NullLogger<ExecuteAgentTaskActivity>.Instance);
}
