using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Orchestrators;
using static Orchflow.Tests.Orchestrators.FakeRun;

namespace Orchflow.Tests.Orchestrators;

/// <summary>
/// Runs started now leave a batch of agent tasks alone to record their own start: no transition activity before them,
/// the run's usage so far handed to each. A batch with a human in it, and every run started before, keep the transition.
/// </summary>
[TestFixture]
public sealed class AgentsRecordTheirStartTests
{
    static EngineSettings Starting(int maxParallel = 4, bool requireApproval = false) =>
        Engine(maxParallel: maxParallel, requireApproval: requireApproval, agentsRecordTheirStart: true);

    [Test]
    public void RunAsync_AgentsAlone_StartWithTheUsageSoFarAndNoTransitionBeforeThem()
    {
        var run = new FakeRun();

        run.StartPlanned(Starting(maxParallel: 2), Agent("T1"), Agent("T2"), Agent("T3", "T1"));

        Assert.Multiple(() =>
        {
            Assert.That(run.AgentStarts, Is.EqualTo(new[]
            {
                new AgentTaskInput(AccountId, RunId, "T1", false, 0, PlanUsage), new AgentTaskInput(AccountId, RunId, "T2", false, 0, PlanUsage),
            }));
            Assert.That(run.Transitions, Is.Empty);
            Assert.That(run.ProjectedStatus, Is.EqualTo(RunStatus.Running));
        });

        run.CompleteAgent("T1", new TokenUsage(3, 4));

        Assert.Multiple(() =>
        {
            Assert.That(run.AgentStarts[^1], Is.EqualTo(new AgentTaskInput(AccountId, RunId, "T3", false, 0, PlanUsage + new TokenUsage(3, 4))));
            Assert.That(run.Transitions, Is.Empty, "a dependent agent starting alone records its own start too");
        });

        run.CompleteAgent("T2");
        run.CompleteAgent("T3");
        Assert.That(run.Journal, Is.EqualTo(new[] { "wait cancel", "plan", "agent T1", "agent T2", "done T1", "agent T3", "done T2", "done T3", "synthesize" }));
    }

    [Test]
    public void RunAsync_AgentsBesideAHuman_OneTransitionRecordsThemAll()
    {
        var run = new FakeRun();

        run.StartPlanned(Starting(), Human("T1"), Agent("T2"), Agent("T3", "T1", "T2"));

        Assert.Multiple(() =>
        {
            Assert.That(run.Transitions, Has.Count.EqualTo(1));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(run.LastTransition.Tasks, Is.EqualTo(new[]
            {
                new TaskTransition("T1", TaskState.WaitingHuman), new TaskTransition("T2", TaskState.Running),
            }));
            Assert.That(run.AgentStarts.Single().RecordStart, Is.Null, "the transition recorded its start");
        });
    }

    [Test]
    public void RunAsync_AgentAloneAfterAnAnswer_RecordsItsStartFromWaiting()
    {
        var run = new FakeRun();
        run.StartPlanned(Starting(), Human("T1"), Agent("T2", "T1"));
        Assert.That(run.ProjectedStatus, Is.EqualTo(RunStatus.WaitingHuman));

        run.Answer("T1", 0, HumanDecision.Accepted);

        Assert.Multiple(() =>
        {
            Assert.That(run.Transitions.Select(t => t.Status), Is.EqualTo(new[] { RunStatus.WaitingHuman }));
            Assert.That(run.AgentStarts.Single(), Is.EqualTo(new AgentTaskInput(AccountId, RunId, "T2", false, 0, PlanUsage)));
            Assert.That(run.ProjectedStatus, Is.EqualTo(RunStatus.Running));
        });
    }

    [Test]
    public void RunAsync_LastAgentDoneWithAHumanStillWaiting_ProjectsWaitingHuman()
    {
        var run = new FakeRun();
        run.StartPlanned(Starting(), Human("T1"), Agent("T2"), Agent("T3", "T2"), Agent("T4", "T1", "T3"));

        run.CompleteAgent("T2");
        run.CompleteAgent("T3");

        Assert.Multiple(() =>
        {
            Assert.That(run.AgentStarts.Select(a => (a.TaskId, a.RecordStart is not null)), Is.EqualTo(new[] { ("T2", false), ("T3", true) }));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(run.LastTransition.Tasks, Is.Empty);
            Assert.That(run.ProjectedStatus, Is.EqualTo(RunStatus.WaitingHuman));
        });
    }

    [Test]
    public void RunAsync_CancelledWhileAgentsAloneRun_RecordsEveryOpenTaskCancelled()
    {
        var run = new FakeRun();
        run.StartPlanned(Starting(), Agent("T1"), Agent("T2"), Agent("T3", "T1"));

        run.Cancel();

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome().Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(run.LastTransition.Tasks.Select(t => (t.TaskId, t.State)), Is.EquivalentTo(new[]
            {
                ("T1", TaskState.Cancelled), ("T2", TaskState.Cancelled), ("T3", TaskState.Cancelled),
            }));
        });
    }

    [Test]
    public void RunAsync_StartedBeforeAgentsRecordedTheirStart_KeepsATransitionBeforeEveryBatch()
    {
        var run = new FakeRun();

        run.StartPlanned(Engine(), Agent("T1"), Agent("T2", "T1"));
        run.CompleteAgent("T1");

        Assert.Multiple(() =>
        {
            Assert.That(run.Transitions.Select(t => t.Tasks.Single().TaskId), Is.EqualTo(new[] { "T1", "T2" }));
            Assert.That(run.AgentStarts.Select(a => a.RecordStart), Is.All.Null);
        });
    }
}
