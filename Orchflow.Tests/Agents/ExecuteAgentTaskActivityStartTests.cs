using Microsoft.DurableTask;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Orchflow.Abstractions;
using Orchflow.Activities;
using Orchflow.Domain;
using Orchflow.Orchestrators;

namespace Orchflow.Tests.Agents;

/// <summary>An agent activity left to record its own start does so before it reads or calls anything, and stops if the run ended.</summary>
[TestFixture]
public sealed class ExecuteAgentTaskActivityStartTests
{
    const string AccountId = "acct-1";
    const string RunId = "run-1";
    static readonly TokenUsage SoFar = new(10, 20);

    [Test]
    public async Task RunAsync_RunEndedBeforeTheTaskStarted_CallsNoModelAndReportsNothingDone()
    {
        var runs = new Mock<IRunStore>(MockBehavior.Strict);
        runs.Setup(r => r.StartTaskAsync(AccountId, RunId, 2, "T2", SoFar, It.IsAny<CancellationToken>())).ReturnsAsync(false);
        var models = new Mock<IRunModelFactory>(MockBehavior.Strict);

        var result = await Activity(runs, models).RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T2", false, 2, SoFar));

        Assert.That(result, Is.EqualTo(new AgentTaskResult(TokenUsage.Zero, 0)));
        runs.VerifyAll();
    }

    [Test]
    public async Task RunAsync_StartRecorded_ReadsTheRunAfterwardsAndRunsTheTask()
    {
        var order = new List<string>();
        var now = DateTimeOffset.UtcNow;
        var task = new TaskRecord { TaskId = "T2", Name = "Research", Kind = TaskKind.Agent, Agent = "research", State = TaskState.Running };
        var run = new RunRecord
        {
            RunId = RunId, AccountId = AccountId, Status = RunStatus.Running, Definition = new RunDefinition("Plan our launch.", [], [], [], false, null, null),
            CreatedAt = now, UpdatedAt = now, Tasks = [task],
        };
        var runs = new Mock<IRunStore>(MockBehavior.Strict);
        runs.Setup(r => r.StartTaskAsync(AccountId, RunId, 0, "T2", SoFar, It.IsAny<CancellationToken>())).Callback(() => order.Add("start")).ReturnsAsync(true);
        runs.Setup(r => r.GetAsync(AccountId, RunId, It.IsAny<CancellationToken>())).Callback(() => order.Add("read")).ReturnsAsync(run);
        runs.Setup(r => r.TryReplaceTaskAsync(RunId, It.Is<TaskRecord>(t => t.State == TaskState.Completed), It.IsAny<CancellationToken>()))
            .Callback(() => order.Add("write")).ReturnsAsync(true);
        var model = new Mock<IRunModel>(MockBehavior.Strict);
        model.Setup(m => m.RunTaskAsync(It.IsAny<AgentTaskRequest>(), It.IsAny<CancellationToken>()))
            .Callback(() => order.Add("model")).ReturnsAsync(new ModelReply<string>("Findings.", new TokenUsage(1, 2)));
        var models = new Mock<IRunModelFactory>(MockBehavior.Strict);
        models.Setup(f => f.ForRunAsync(AccountId, null, It.IsAny<CancellationToken>())).ReturnsAsync(model.Object);

        var result = await Activity(runs, models).RunAsync(Mock.Of<TaskActivityContext>(), new AgentTaskInput(AccountId, RunId, "T2", false, 0, SoFar));

        Assert.Multiple(() =>
        {
            Assert.That(order, Is.EqualTo(new[] { "start", "read", "model", "write" }));
            Assert.That(result, Is.EqualTo(new AgentTaskResult(new TokenUsage(1, 2), "Findings.".Length)));
        });
    }

    static ExecuteAgentTaskActivity Activity(Mock<IRunStore> runs, Mock<IRunModelFactory> models) =>
        new(runs.Object, models.Object, Options.Create(new EngineOptions()), TimeProvider.System, NullLogger<ExecuteAgentTaskActivity>.Instance);
}
