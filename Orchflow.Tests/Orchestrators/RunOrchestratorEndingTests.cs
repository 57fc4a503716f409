using Microsoft.DurableTask;
using Orchflow.Activities;
using Orchflow.Domain;
using Orchflow.Orchestrators;
using static Orchflow.Tests.Orchestrators.FakeRun;

namespace Orchflow.Tests.Orchestrators;

/// <summary>How a run ends other than by completing: cancelled, failed, timed out, or unable to record its progress.</summary>
[TestFixture]
public sealed class RunOrchestratorEndingTests : FakeRunTests
{
    [Test]
    public void RunAsync_SynthesisFindsTheRunCancelled_ReturnsCancelled()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Agent("T1"));
        run.CompleteAgent("T1");

        run.CompleteSynthesis(completed: false);

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Cancelled)));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Cancelled));
        });
    }

    [Test]
    public void RunAsync_CancelWhilePlanning_StartsNothing()
    {
        var run = NewRun();
        run.Start();

        run.Cancel();
        run.CompletePlan(Agent("T1"));

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Cancelled)));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(run.State.Tasks, Is.Empty, "the plan came too late to be saved");
            Assert.That(run.StartedTasks, Is.Empty);
            Assert.That(run.Journal[^1], Is.EqualTo("record Cancel"));
        });
    }

    [Test]
    public void RunAsync_CancelWhileRunning_CancelsOpenTasksAndSchedulesNothing()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Agent("T1"), Agent("T2"), Agent("T3", "T1"), Agent("T4", "T3"));
        run.CompleteAgent("T2");

        run.Cancel();
        var journalAtCancel = run.Journal.Count;
        run.CompleteAgent("T1");

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Cancelled)));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(run.State.Tasks.Select(t => t.State), Is.EqualTo(new[]
            {
                TaskState.Cancelled, TaskState.Completed, TaskState.Cancelled, TaskState.Cancelled,
            }));
            Assert.That(run.Journal.Skip(journalAtCancel), Is.EqualTo(new[] { "done T1" }), "nothing after the cancel");
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2" }));
        });
    }

    [Test]
    public void RunAsync_CancelWhileWaitingOnHuman_CancelsOpenTasksAndSchedulesNothing()
    {
        var run = NewRun();
        run.StartPlanned(Engine(humanTimeoutSeconds: 60), Human("T1"), Agent("T2", "T1"));

        run.Cancel();
        var journalAtCancel = run.Journal.Count;

        Assert.Multiple(() =>
        {
            Assert.That(run.Answer("T1", 0, HumanDecision.Accepted), Is.False, "a cancelled run's tasks can no longer be answered");
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Cancelled)));
            Assert.That(run.State.Tasks.Select(t => t.State), Is.EqualTo(new[] { TaskState.Cancelled, TaskState.Cancelled }));
            Assert.That(run.Journal.Skip(journalAtCancel), Is.Empty);
            Assert.That(run.StartedTasks, Is.Empty);
        });
    }

    [Test]
    public void RunAsync_CancelDuringSynthesis_EndsCancelled()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Agent("T1"));
        run.CompleteAgent("T1");

        run.Cancel();

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Cancelled)));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Cancelled));
        });
    }

    [Test]
    public void RunAsync_AgentActivityFails_FailsTheRunNamingTaskAndCauseAndCancelsTheRest()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Agent("T1"), Agent("T2"), Agent("T3", "T1"));

        run.FailAgent("T1", "model quota exceeded");
        var journalAtFailure = run.Journal.Count;

        var expected = RunErrors.TaskFailed("T1", "model quota exceeded");
        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Failed, expected)));
            Assert.That(expected, Does.Contain("T1").And.Contain("model quota exceeded"));
            Assert.That(run.LastRecord, Is.EqualTo(new RunChangeRequest(AccountId, RunId, 0, RunChangeKind.Fail, Error: expected, TaskId: "T1")));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(run.State.Error, Is.EqualTo(expected));
            Assert.That(run.State.Tasks.Select(t => (t.State, t.Error)), Is.EqualTo(new[]
            {
                (TaskState.Failed, expected), (TaskState.Cancelled, null), (TaskState.Cancelled, (string?)null),
            }));
            Assert.That(run.SynthesisInputs, Is.Empty);
        });

        run.CompleteAgent("T2");
        Assert.Multiple(() =>
        {
            Assert.That(run.Journal.Skip(journalAtFailure), Is.EqualTo(new[] { "done T2" }), "nothing after the failure");
            Assert.That(run.StateOf("T2"), Is.EqualTo(TaskState.Cancelled), "a late output is dropped");
        });
    }

    [Test]
    public void RunAsync_PlanningFails_FailsTheRunWithTheCause()
    {
        var run = NewRun();
        run.Start();

        run.FailPlan("the provider was deleted");

        var outcome = run.Outcome();
        Assert.Multiple(() =>
        {
            Assert.That(outcome.Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(outcome.Error, Does.Contain("the provider was deleted"));
            Assert.That(run.Records.Select(r => r.Kind), Is.EqualTo(new[] { RunChangeKind.Fail }));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(run.State.Error, Is.EqualTo(outcome.Error));
        });
    }

    [Test]
    public void RunAsync_PlanningFindsTheRunEnded_ReturnsCancelledWithoutRecording()
    {
        var run = NewRun();
        run.Start();

        run.CompletePlanAsEnded();

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Cancelled)));
            Assert.That(run.Records, Is.Empty);
        });
    }

    [Test]
    public void RunAsync_RunCancelledBeforeTheNextBatchIsRecorded_StopsWithoutStartingDependants()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Agent("T1"), Human("T2", "T1"), Agent("T3", "T1"));
        run.RecordAgentResult("T1");
        run.EndInTheProjection();

        run.DeliverAgentResult("T1");

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Cancelled)));
            Assert.That(run.Records.Select(r => r.Kind), Is.EqualTo(new[] { RunChangeKind.StartTasks, RunChangeKind.Cancel }), "the batch was refused");
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1" }));
        });
    }

    [Test]
    public void RunAsync_BudgetSpentWhileTasksRun_EachPausesTheRunWaitsOnceAndARaiseStartsThemAgain()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Agent("T1"), Agent("T2"), Agent("T3", "T1", "T2"));

        run.PauseOnBudget("T1");
        Assert.That(run.State.Status, Is.EqualTo(RunStatus.Running), "T2 still runs");
        run.PauseOnBudget("T2");

        Assert.Multiple(() =>
        {
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(run.State.WaitingOn, Is.EqualTo(new[] { "budget" }));
            Assert.That(run.State.Tasks.Take(2).Select(t => t.State), Is.All.EqualTo(TaskState.Pending));
            Assert.That(run.Waits.Count(w => w.StartsWith("budget:", StringComparison.Ordinal)), Is.EqualTo(1), "one wait for both");
        });

        Assert.That(run.RaiseBudget(), Is.True);

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2", "T1", "T2" }));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Running));
        });
    }

    [Test]
    public void RunAsync_BudgetSpentBeforeTheSynthesis_WaitsAndSynthesizesOnceRaised()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Agent("T1"));
        run.CompleteAgent("T1");

        run.PauseOnBudget(null);
        Assert.That(run.State.WaitingOn, Is.EqualTo(new[] { "budget" }));
        run.RaiseBudget();
        run.CompleteSynthesis();

        Assert.Multiple(() =>
        {
            Assert.That(run.SynthesisInputs, Has.Count.EqualTo(2));
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Completed)));
        });
    }

    [Test]
    public void RunAsync_BudgetNotRaisedPastTheHumanTimeout_FailsTheRunSayingSo()
    {
        var run = NewRun();
        run.StartPlanned(Engine(humanTimeoutSeconds: 60), Agent("T1"));
        run.PauseOnBudget("T1");

        run.PendingTimers.Single().Fire();

        Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Failed, RunErrors.BudgetNotRaised(60))));
    }

    [Test]
    public void RunAsync_HumanTimeoutElapses_FailsTheRunWithTheTimeoutError()
    {
        var run = NewRun();
        run.StartPlanned(Engine(humanTimeoutSeconds: 90), Human("T1"), Agent("T2", "T1"));
        // A second of slack: the storage backend rounds timer delays down to whole seconds.
        Assert.That(run.Timers.Select(t => t.FireAt), Is.EqualTo(new[] { Now.AddSeconds(91) }));

        run.Timers[0].Fire();

        var expected = RunErrors.HumanTimedOut("T1", 90);
        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Failed, expected)));
            Assert.That(run.LastRecord, Is.EqualTo(new RunChangeRequest(AccountId, RunId, 0, RunChangeKind.TimeOut, TaskId: "T1", Seconds: 90)));
            Assert.That(run.State.Error, Is.EqualTo(expected));
            Assert.That(run.State.Tasks.Select(t => t.State), Is.EqualTo(new[] { TaskState.Failed, TaskState.Cancelled }));
            Assert.That(run.StartedTasks, Is.Empty);
        });
    }

    [Test]
    public void RunAsync_HumanAnswersBeforeTimeout_CancelsTheTimerAndContinues()
    {
        var run = NewRun();
        run.StartPlanned(Engine(humanTimeoutSeconds: 90), Human("T1"), Agent("T2", "T1"));
        Assert.That(run.Timers.Single().Token.IsCancellationRequested, Is.False);

        run.Answer("T1", 0, HumanDecision.Accepted);

        Assert.Multiple(() =>
        {
            Assert.That(run.Timers.Single().Token.IsCancellationRequested, Is.True);
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T2" }));
        });
        run.AssertBlocked();
    }

    [TestCase("Cancel", RunStatus.Cancelled)]
    [TestCase("AgentFails", RunStatus.Failed)]
    [TestCase("OtherHumanTimesOut", RunStatus.Failed)]
    [TestCase("RunCancelledBeforeTheNextBatch", RunStatus.Cancelled)]
    [TestCase("RecordingFails", RunStatus.Failed)]
    public void RunAsync_RunEndsWhileAHumanWaits_CancelsEveryPendingTimer(string exit, RunStatus status)
    {
        var run = NewRun();
        // T2's completion makes ready a batch with a human in it, which the orchestrator records itself.
        run.StartPlanned(Engine(humanTimeoutSeconds: 60), Human("T1"), Agent("T2"), Human("T3"), Human("T4", "T2"), Agent("T5", "T1", "T3", "T4"));
        Assert.That(run.Timers, Has.Count.EqualTo(2));

        switch (exit)
        {
            case "Cancel":
                run.Cancel();
                break;
            case "AgentFails":
                run.FailAgent("T2", "model quota exceeded");
                break;
            case "OtherHumanTimesOut":
                run.Timers[1].Fire();
                break;
            case "RunCancelledBeforeTheNextBatch":
                run.EndInTheProjection();
                run.CompleteAgent("T2");
                break;
            default:
                run.RecordFailure = r => r.Kind == RunChangeKind.Fail ? null : "table unavailable";
                run.CompleteAgent("T2");
                break;
        }

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome().Status, Is.EqualTo(status));
            Assert.That(run.State.Status, Is.EqualTo(status));
            Assert.That(run.Timers[0].Token.IsCancellationRequested, Is.True, "T1's timer");
            Assert.That(run.PendingTimers, Is.Empty);
        });
    }

    [Test]
    public void RunAsync_RecordingFailsAfterItsRetries_RecordsTheRunFailedNamingTheCause()
    {
        var run = NewRun();
        run.RecordFailure = r => r.Kind == RunChangeKind.StartTasks ? "Table Storage returned 503" : null;

        run.StartPlanned(Engine(), Human("T1"), Agent("T2", "T1"));

        var expected = RunErrors.ProjectionFailed("Table Storage returned 503");
        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Failed, expected)));
            Assert.That(expected, Does.Contain("Table Storage returned 503"));
            Assert.That(run.Records.Select(r => r.Kind), Is.EqualTo(new[] { RunChangeKind.StartTasks, RunChangeKind.Fail }));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(run.State.Error, Is.EqualTo(expected));
            Assert.That(run.State.Tasks.Select(t => t.State), Is.EqualTo(new[] { TaskState.Cancelled, TaskState.Cancelled }));
        });
    }

    [Test]
    public void RunAsync_RecordingFailsWhileRecordingAFailure_TriesOnceMoreThenStops()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Agent("T1"));
        var failures = 0;
        run.RecordFailure = r => r.Kind == RunChangeKind.Fail && failures++ == 0 ? "Table Storage returned 503" : null;

        run.FailAgent("T1", "model quota exceeded");

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Failed, RunErrors.ProjectionFailed("Table Storage returned 503"))));
            Assert.That(run.Records.Select(r => r.Kind), Is.EqualTo(new[] { RunChangeKind.Fail, RunChangeKind.Fail }));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Failed));
        });
    }

    [Test]
    public void RunAsync_LastRecordingAttemptFailsToo_FailsTheOrchestrationLoudly()
    {
        var run = NewRun();
        run.StartPlanned(Engine(humanTimeoutSeconds: 60), Human("T1"), Agent("T2"), Agent("T3", "T1", "T2"));
        run.RecordFailure = _ => "Table Storage is gone";

        run.FailAgent("T2", "model quota exceeded");

        Assert.Multiple(() =>
        {
            Assert.That(run.Fault, Is.TypeOf<TaskFailedException>().With.Message.Contains(nameof(RecordRunChangeActivity)));
            Assert.That(run.Records.Select(r => r.Kind), Is.EqualTo(new[] { RunChangeKind.StartTasks, RunChangeKind.Fail, RunChangeKind.Fail }));
            Assert.That(run.Timers.Single().Token.IsCancellationRequested, Is.True, "T1's timer");
        });
    }
}
