using Orchflow.Domain;
using Orchflow.Orchestrators;
using static Orchflow.Tests.Orchestrators.FakeRun;

namespace Orchflow.Tests.Orchestrators;

/// <summary>
/// The run orchestrator's scheduling, replayed against a strict orchestration context: what starts when, who records
/// it, and where the run stands in the store after each step (decided by the same transitions the store uses).
/// </summary>
[TestFixture]
public sealed class RunOrchestratorTests : FakeRunTests
{
    [Test]
    public void RunAsync_Started_PlansTheRunItWasGiven()
    {
        var run = NewRun();

        run.Start();

        Assert.Multiple(() =>
        {
            Assert.That(run.PlanInputs, Is.EqualTo(new[] { new PlanInput(AccountId, RunId) }));
            Assert.That(run.Waits, Is.EqualTo(new[] { RunEvents.Cancel }));
            Assert.That(run.StartedTasks, Is.Empty);
            Assert.That(run.Records, Is.Empty);
        });
    }

    [Test]
    public void RunAsync_IndependentAgents_StartUpToMaxParallelEachRecordingItsOwnStart()
    {
        var run = NewRun();

        run.StartPlanned(Engine(maxParallel: 2), Agent("T1"), Agent("T2"), Agent("T3"));

        Assert.Multiple(() =>
        {
            Assert.That(run.AgentStarts, Is.EqualTo(new[]
            {
                new AgentTaskInput(AccountId, RunId, "T1", AwaitApproval: false, Reached: run.PlannedAt),
                new AgentTaskInput(AccountId, RunId, "T2", AwaitApproval: false, Reached: run.PlannedAt),
            }));
            Assert.That(run.Records, Is.Empty, "agents that start alone record their own start");
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(run.StateOf("T3"), Is.EqualTo(TaskState.Pending));
        });

        run.CompleteAgent("T2");

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2", "T3" }));
            Assert.That(run.StateOf("T2"), Is.EqualTo(TaskState.Completed));
            Assert.That(run.StateOf("T3"), Is.EqualTo(TaskState.Running));
        });
        run.AssertBlocked();
    }

    [Test]
    public void RunAsync_AgentsBesideAHuman_OneRecordStartsThemAllAndTheAgentsDoNotRecordAgain()
    {
        var run = NewRun();

        run.StartPlanned(Engine(), Human("T1"), Agent("T2"), Agent("T3", "T1", "T2"));

        Assert.Multiple(() =>
        {
            Assert.That(run.Records, Has.Count.EqualTo(1));
            Assert.That(run.LastRecord.Kind, Is.EqualTo(RunChangeKind.StartTasks));
            Assert.That(run.LastRecord.Humans, Is.EqualTo(new[] { "T1" }));
            Assert.That(run.LastRecord.Agents, Is.EqualTo(new[] { "T2" }));
            Assert.That(run.AgentStarts.Single().RecordStart, Is.False);
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Running), "an agent runs while T1 waits");
            Assert.That(run.State.WaitingOn, Is.EqualTo(new[] { "T1" }));
        });
    }

    [Test]
    public void RunAsync_TaskWithDependencies_StartsOnlyWhenAllOfThemComplete()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Agent("T1"), Agent("T2"), Agent("T3", "T1", "T2"));
        Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2" }));

        run.CompleteAgent("T1");
        Assert.That(run.StartedTasks, Has.No.Member("T3"));

        run.CompleteAgent("T2");
        Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2", "T3" }));
        run.AssertBlocked();
    }

    [Test]
    public void RunAsync_AgentTask_PassesRunTaskAndApprovalToTheActivity()
    {
        var run = NewRun();

        run.StartPlanned(Engine(requireApproval: true), Agent("T1"));

        Assert.That(run.AgentStarts, Is.EqualTo(new[] { new AgentTaskInput(AccountId, RunId, "T1", AwaitApproval: true, Reached: run.PlannedAt) }));
    }

    [Test]
    public void RunAsync_OnlyHumanTaskReady_RecordsItWaitingAndWaitsOnItsEvent()
    {
        var run = NewRun();

        run.StartPlanned(Engine(), Human("T1"), Agent("T2", "T1"));

        Assert.Multiple(() =>
        {
            Assert.That(run.LastRecord.Humans, Is.EqualTo(new[] { "T1" }));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(run.State.WaitingOn, Is.EqualTo(new[] { "T1" }));
            Assert.That(run.Waits, Does.Contain("human:T1:0"));
            Assert.That(run.StartedTasks, Is.Empty);
            Assert.That(run.Timers, Is.Empty, "no human_timeout_seconds, no timer");
        });
        run.AssertBlocked();
    }

    [Test]
    public void RunAsync_HumanWaitingWhileAgentRuns_IsRunningUntilTheAgentIsDone()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Human("T1"), Agent("T2"), Agent("T3", "T1", "T2"));
        Assert.That(run.State.Status, Is.EqualTo(RunStatus.Running));

        run.CompleteAgent("T2");

        Assert.Multiple(() =>
        {
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.WaitingHuman), "the agent's own write settles the run waiting");
            Assert.That(run.Records, Has.Count.EqualTo(1), "no write of the orchestrator's own for it");
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T2" }));
        });
    }

    [Test]
    public void RunAsync_HumanAnswers_RunsAgainAndStartsDependants()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Human("T1"), Agent("T2", "T1"), Agent("T3", "T1"));

        run.Answer("T1", 0, HumanDecision.Accepted);

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T2", "T3" }));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(run.StateOf("T1"), Is.EqualTo(TaskState.Completed));
            Assert.That(run.Records, Has.Count.EqualTo(1), "the agents record their own start");
        });
        run.AssertBlocked();
    }

    [Test]
    public void RunAsync_AllTasksComplete_SynthesizesOnceThenCompletesWithEveryCostAdded()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Human("T1"), Agent("T2", "T1"), Agent("T3", "T1"));
        run.Answer("T1", 0, HumanDecision.Accepted);
        run.CompleteAgent("T2", new TokenUsage(100, 200));
        Assert.That(run.SynthesisInputs, Is.Empty, "T3 is still running");

        run.CompleteAgent("T3", new TokenUsage(1000, 2000));
        Assert.That(run.SynthesisInputs, Is.EqualTo(new[] { new SynthesisInput(AccountId, RunId) }));
        run.AssertBlocked();

        run.CompleteSynthesis();

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Completed)));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Completed));
            Assert.That(run.State.Usage, Is.EqualTo(PlanUsage + new TokenUsage(1100, 2200) + new TokenUsage(5, 6)));
            Assert.That(run.Journal.TakeLast(2), Is.EqualTo(new[] { "done T3", "synthesize" }));
        });
    }

    [Test]
    public void RunAsync_LastTaskIsHuman_TheAnswerLeavesTheRunRunningForItsSynthesis()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Agent("T1"), Human("T2", "T1"));
        run.CompleteAgent("T1");
        Assert.That(run.State.Status, Is.EqualTo(RunStatus.WaitingHuman));

        run.Answer("T2", 0, HumanDecision.Accepted);

        Assert.Multiple(() =>
        {
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(run.Journal[^1], Is.EqualTo("synthesize"));
            Assert.That(run.Records.Select(r => r.Kind), Is.EqualTo(new[] { RunChangeKind.StartTasks }), "nothing recorded between the answer and the synthesis");
        });
        run.AssertBlocked();
    }

    [Test]
    public void RunAsync_HumanAnswerRaisedBeforeTheWait_IsNotLost()
    {
        var run = NewRun();
        run.Start();
        run.Raise(RunEvents.Human("T1", 0), new HumanReply(HumanDecision.Accepted));

        run.CompletePlan(Human("T1"), Agent("T2", "T1"));

        Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T2" }));
        run.AssertBlocked();
    }

    [Test]
    public void RunAsync_PlanWithUnmetDependency_FailsAsStuck()
    {
        var run = NewRun();

        run.StartPlanned(Engine(), Agent("T1", "T9"));

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Failed, RunErrors.Stuck(["T1"]))));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(run.StateOf("T1"), Is.EqualTo(TaskState.Cancelled));
            Assert.That(run.StartedTasks, Is.Empty);
        });
    }
}
