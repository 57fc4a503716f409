using Microsoft.DurableTask;
using Orchflow.Abstractions;
using Orchflow.Activities;
using Orchflow.Domain;
using Orchflow.Orchestrators;
using static Orchflow.Tests.Orchestrators.FakeRun;

namespace Orchflow.Tests.Orchestrators;

/// <summary>The run orchestrator's decisions, replayed against a strict orchestration context.</summary>
[TestFixture]
public sealed class RunOrchestratorTests
{
    [Test]
    public void RunAsync_Started_PlansTheRunItWasGiven()
    {
        var run = new FakeRun();

        run.Start();

        Assert.Multiple(() =>
        {
            Assert.That(run.PlanInputs, Is.EqualTo(new[] { new PlanInput(AccountId, RunId) }));
            Assert.That(run.Waits, Is.EqualTo(new[] { RunEvents.Cancel }));
            Assert.That(run.StartedTasks, Is.Empty);
            Assert.That(run.Transitions, Is.Empty);
        });
    }

    [Test]
    public void RunAsync_IndependentTasks_StartsUpToMaxParallelBeforeAnyCompletes()
    {
        var run = new FakeRun();

        run.StartPlanned(Engine(maxParallel: 2), Agent("T1"), Agent("T2"), Agent("T3"));

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2" }));
            Assert.That(run.Transitions, Has.Count.EqualTo(1));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(run.LastTransition.Tasks, Is.EqualTo(new[]
            {
                new TaskTransition("T1", TaskState.Running), new TaskTransition("T2", TaskState.Running),
            }));
            Assert.That(run.LastTransition.Usage, Is.EqualTo(PlanUsage));
        });

        run.CompleteAgent("T2");

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2", "T3" }));
            Assert.That(run.LastTransition.Tasks, Is.EqualTo(new[] { new TaskTransition("T3", TaskState.Running) }));
        });
        run.AssertBlocked();
    }

    [Test]
    public void RunAsync_TaskWithDependencies_StartsOnlyWhenAllOfThemComplete()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(), Agent("T1"), Agent("T2"), Agent("T3", "T1", "T2"));
        Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2" }));

        run.CompleteAgent("T1");
        Assert.That(run.StartedTasks, Has.No.Member("T3"));

        run.CompleteAgent("T2");
        Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2", "T3" }));
        run.AssertBlocked();
    }

    [Test]
    public void RunAsync_AgentTask_PassesRunAndTaskIdsToTheActivity()
    {
        var run = new FakeRun();

        run.StartPlanned(Engine(requireApproval: true), Agent("T1"));

        Assert.That(run.AgentStarts, Is.EqualTo(new[] { new AgentTaskInput(AccountId, RunId, "T1", AwaitApproval: true) }));
    }

    [Test]
    public void RunAsync_OnlyHumanTaskReady_ProjectsWaitingHumanAndWaitsOnItsEvent()
    {
        var run = new FakeRun();

        run.StartPlanned(Engine(), Human("T1"), Agent("T2", "T1"));

        Assert.Multiple(() =>
        {
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(run.LastTransition.Tasks, Is.EqualTo(new[] { new TaskTransition("T1", TaskState.WaitingHuman) }));
            Assert.That(run.Waits, Does.Contain("human:T1:0"));
            Assert.That(run.StartedTasks, Is.Empty);
            Assert.That(run.Timers, Is.Empty, "no human_timeout_seconds, no timer");
        });
        run.AssertBlocked();
    }

    [Test]
    public void RunAsync_HumanWaitingWhileAgentRuns_StaysRunningUntilNoAgentRuns()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(), Human("T1"), Agent("T2"), Agent("T3", "T1", "T2"));

        Assert.Multiple(() =>
        {
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(StateIn(run.LastTransition, "T1"), Is.EqualTo(TaskState.WaitingHuman));
            Assert.That(StateIn(run.LastTransition, "T2"), Is.EqualTo(TaskState.Running));
        });

        run.CompleteAgent("T2");

        Assert.Multiple(() =>
        {
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(run.LastTransition.Tasks, Is.Empty);
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T2" }));
        });
    }

    [Test]
    public void RunAsync_HumanAnswers_StartsDependantsAndProjectsRunning()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(), Human("T1"), Agent("T2", "T1"), Agent("T3", "T1"));

        run.Answer("T1", 0, HumanDecision.Accepted);

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T2", "T3" }));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(run.LastTransition.Tasks, Is.EqualTo(new[]
            {
                new TaskTransition("T2", TaskState.Running), new TaskTransition("T3", TaskState.Running),
            }));
        });
        run.AssertBlocked();
    }

    [Test]
    public void RunAsync_AllTasksComplete_SynthesizesOnceThenCompletes()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(), Human("T1"), Agent("T2", "T1"), Agent("T3", "T1"));
        run.Answer("T1", 0, HumanDecision.Accepted);
        run.CompleteAgent("T2", new TokenUsage(100, 200));
        Assert.That(run.SynthesisInputs, Is.Empty, "T3 is still running");

        run.CompleteAgent("T3", new TokenUsage(1000, 2000));
        Assert.That(run.SynthesisInputs, Is.EqualTo(new[]
        {
            new SynthesisInput(AccountId, RunId, PlanUsage + new TokenUsage(1100, 2200)),
        }));
        run.AssertBlocked();

        run.CompleteSynthesis();

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Completed)));
            Assert.That(run.Journal.TakeLast(2), Is.EqualTo(new[] { "done T3", "synthesize" }));
        });
    }

    [Test]
    public void RunAsync_SynthesisFindsTheRunEnded_ReturnsCancelled()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(), Agent("T1"));
        run.CompleteAgent("T1");

        run.CompleteSynthesis(completed: false);

        Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Cancelled)));
    }

    [Test]
    public void RunAsync_CancelWhilePlanning_ProjectsCancelledAndSchedulesNothing()
    {
        var run = new FakeRun();
        run.Start();

        run.Cancel();
        run.CompletePlan(Agent("T1"));

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Cancelled)));
            Assert.That(run.Transitions, Has.Count.EqualTo(1));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(run.StartedTasks, Is.Empty);
            Assert.That(run.Journal[^1], Is.EqualTo("project Cancelled"));
        });
    }

    [Test]
    public void RunAsync_CancelWhileRunning_CancelsOpenTasksAndSchedulesNothing()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(), Agent("T1"), Agent("T2"), Agent("T3", "T1"), Agent("T4", "T3"));
        run.CompleteAgent("T2");

        run.Cancel();
        var journalAtCancel = run.Journal.Count;
        run.CompleteAgent("T1");

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Cancelled)));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(run.LastTransition.Tasks, Is.EquivalentTo(new[]
            {
                new TaskTransition("T1", TaskState.Cancelled),
                new TaskTransition("T3", TaskState.Cancelled),
                new TaskTransition("T4", TaskState.Cancelled),
            }));
            Assert.That(run.Journal.Skip(journalAtCancel), Is.EqualTo(new[] { "done T1" }), "nothing after the cancel");
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2" }));
        });
    }

    [Test]
    public void RunAsync_CancelWhileWaitingOnHuman_CancelsOpenTasksAndSchedulesNothing()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(humanTimeoutSeconds: 60), Human("T1"), Agent("T2", "T1"));

        run.Cancel();
        var journalAtCancel = run.Journal.Count;
        run.Answer("T1", 0, HumanDecision.Accepted);

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Cancelled)));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(run.LastTransition.Tasks, Is.EquivalentTo(new[]
            {
                new TaskTransition("T1", TaskState.Cancelled), new TaskTransition("T2", TaskState.Cancelled),
            }));
            Assert.That(run.Journal.Skip(journalAtCancel), Is.Empty);
            Assert.That(run.StartedTasks, Is.Empty);
        });
    }

    [Test]
    public void RunAsync_CancelDuringSynthesis_ProjectsCancelled()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(), Agent("T1"));
        run.CompleteAgent("T1");

        run.Cancel();

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Cancelled)));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Cancelled));
        });
    }

    [Test]
    public void RunAsync_AgentActivityFails_FailsTheRunNamingTaskAndCauseAndCancelsTheRest()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(), Agent("T1"), Agent("T2"), Agent("T3", "T1"));

        run.FailAgent("T1", "model quota exceeded");
        var journalAtFailure = run.Journal.Count;

        var expected = RunErrors.TaskFailed("T1", "model quota exceeded");
        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Failed, expected)));
            Assert.That(expected, Does.Contain("T1").And.Contain("model quota exceeded"));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(run.LastTransition.Error, Is.EqualTo(expected));
            Assert.That(run.LastTransition.Tasks, Is.EquivalentTo(new[]
            {
                new TaskTransition("T1", TaskState.Failed, expected),
                new TaskTransition("T2", TaskState.Cancelled),
                new TaskTransition("T3", TaskState.Cancelled),
            }));
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2" }));
            Assert.That(run.SynthesisInputs, Is.Empty);
        });

        run.CompleteAgent("T2");
        Assert.That(run.Journal.Skip(journalAtFailure), Is.EqualTo(new[] { "done T2" }), "nothing after the failure");
    }

    [Test]
    public void RunAsync_PlanningFails_FailsTheRunWithTheCause()
    {
        var run = new FakeRun();
        run.Start();

        run.FailPlan("the provider was deleted");

        var outcome = run.Outcome();
        Assert.Multiple(() =>
        {
            Assert.That(outcome.Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(outcome.Error, Does.Contain("the provider was deleted"));
            Assert.That(run.Transitions, Has.Count.EqualTo(1));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(run.LastTransition.Error, Is.EqualTo(outcome.Error));
            Assert.That(run.StartedTasks, Is.Empty);
        });
    }

    [Test]
    public void RunAsync_PlanningFindsTheRunEnded_ReturnsCancelledWithoutProjecting()
    {
        var run = new FakeRun();
        run.Start();

        run.CompletePlanAsEnded();

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Cancelled)));
            Assert.That(run.Transitions, Is.Empty);
        });
    }

    [Test]
    public void RunAsync_ProjectionReportsTheRunEnded_StopsWithoutStartingTasks()
    {
        var run = new FakeRun { ProjectionAccepts = _ => false };

        run.StartPlanned(Engine(), Agent("T1"), Agent("T2"));

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Cancelled)));
            Assert.That(run.StartedTasks, Is.Empty);
            Assert.That(run.Transitions.Select(t => t.Status), Is.EqualTo(new[] { RunStatus.Running, RunStatus.Cancelled }));
        });
    }

    [Test]
    public void RunAsync_ProjectionEndsTheRunLater_StopsWithoutStartingDependants()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(), Human("T1"), Agent("T2", "T1"));
        run.ProjectionAccepts = t => t.Status != RunStatus.Running;

        run.Answer("T1", 0, HumanDecision.Accepted);

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Cancelled)));
            Assert.That(run.StartedTasks, Is.Empty);
        });
    }

    [Test]
    public void RunAsync_HumanTimeoutElapses_FailsTheRunWithTheTimeoutError()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(humanTimeoutSeconds: 90), Human("T1"), Agent("T2", "T1"));
        // A second of slack: the storage backend rounds timer delays down to whole seconds.
        Assert.That(run.Timers.Select(t => t.FireAt), Is.EqualTo(new[] { Now.AddSeconds(91) }));

        run.Timers[0].Fire();

        var expected = RunErrors.HumanTimedOut("T1", 90);
        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Failed, expected)));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(run.LastTransition.Tasks, Is.EquivalentTo(new[]
            {
                new TaskTransition("T1", TaskState.Failed, expected), new TaskTransition("T2", TaskState.Cancelled),
            }));
            Assert.That(run.StartedTasks, Is.Empty);
        });
    }

    [Test]
    public void RunAsync_HumanAnswersBeforeTimeout_CancelsTheTimerAndContinues()
    {
        var run = new FakeRun();
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

    [Test]
    public void RunAsync_ApprovalRequired_WaitsForApprovalBeforeDependantsStart()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(requireApproval: true), Human("T1"), Agent("T2", "T1"), Agent("T3", "T2"));
        run.Answer("T1", 0, HumanDecision.Accepted);
        Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T2" }));

        run.CompleteAgent("T2");

        Assert.Multiple(() =>
        {
            Assert.That(run.Waits[^1], Is.EqualTo("human:T2:0"));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(run.StartedTasks, Has.No.Member("T3"));
        });
        run.AssertBlocked();

        run.Answer("T2", 0, HumanDecision.Accepted);

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T2", "T3" }));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Running));
        });
    }

    [Test]
    public void RunAsync_ApprovedDraftIsTheLastTask_CompletesTheRun()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(requireApproval: true), Agent("T1"));
        run.CompleteAgent("T1");
        Assert.That(run.SynthesisInputs, Is.Empty, "the draft is not approved yet");

        run.Answer("T1", 0, HumanDecision.Accepted);
        run.CompleteSynthesis();

        Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Completed)));
    }

    [Test]
    public void RunAsync_DraftRejected_RedoesTheTaskAndWaitsOnTheNextRound()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(requireApproval: true), Agent("T1"), Agent("T2", "T1"));
        run.CompleteAgent("T1");

        run.Answer("T1", 0, HumanDecision.Rejected);

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T1" }));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Running));
        });

        run.CompleteAgent("T1");

        Assert.Multiple(() =>
        {
            Assert.That(run.Waits.Where(w => w.StartsWith("human:", StringComparison.Ordinal)), Is.EqualTo(new[] { "human:T1:0", "human:T1:1" }));
            Assert.That(run.StartedTasks, Has.No.Member("T2"));
        });

        run.Answer("T1", 1, HumanDecision.Accepted);
        Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T1", "T2" }));
    }

    [Test]
    public void RunAsync_DraftRejectedMoreThanMaxReviewRounds_FailsTheRun()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(requireApproval: true, maxReviewRounds: 2), Agent("T1"), Agent("T2", "T1"));
        for (var round = 0; round < 2; round++)
        {
            run.CompleteAgent("T1");
            run.Answer("T1", round, HumanDecision.Rejected);
        }

        run.CompleteAgent("T1");
        run.Answer("T1", 2, HumanDecision.Rejected);

        var expected = RunErrors.TooManyReviews("T1", 2);
        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Failed, expected)));
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T1", "T1" }));
            Assert.That(run.LastTransition.Tasks, Is.EquivalentTo(new[]
            {
                new TaskTransition("T1", TaskState.Failed, expected), new TaskTransition("T2", TaskState.Cancelled),
            }));
        });
    }

    [Test]
    public void RunAsync_HumanAnswerRaisedBeforeTheWait_IsNotLost()
    {
        var run = new FakeRun();
        run.Start();
        run.Answer("T1", 0, HumanDecision.Accepted);

        run.CompletePlan(Human("T1"), Agent("T2", "T1"));

        Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T2" }));
        run.AssertBlocked();
    }

    [Test]
    public void RunAsync_ApprovalRaisedBeforeTheAgentReturns_IsNotLost()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(requireApproval: true), Agent("T1"), Agent("T2", "T1"));
        run.Answer("T1", 0, HumanDecision.Accepted);

        run.CompleteAgent("T1");

        Assert.Multiple(() =>
        {
            Assert.That(run.Waits, Does.Contain("human:T1:0"));
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2" }));
        });
    }

    [Test]
    public void RunAsync_PlanWithUnmetDependency_FailsAsStuck()
    {
        var run = new FakeRun();

        run.StartPlanned(Engine(), Agent("T1", "T9"));

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Failed, RunErrors.Stuck(["T1"]))));
            Assert.That(run.StartedTasks, Is.Empty);
        });
    }

    [Test]
    public void RunAsync_LastTaskIsHuman_ProjectsRunningBeforeSynthesizing()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(), Agent("T1"), Human("T2", "T1"));
        run.CompleteAgent("T1");
        Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.WaitingHuman));

        run.Answer("T2", 0, HumanDecision.Accepted);

        Assert.Multiple(() =>
        {
            Assert.That(run.Journal.TakeLast(2), Is.EqualTo(new[] { "project Running", "synthesize" }));
            Assert.That(run.LastTransition.Tasks, Is.Empty);
        });
        run.AssertBlocked();
    }

    [TestCase("Cancel", RunStatus.Cancelled)]
    [TestCase("AgentFails", RunStatus.Failed)]
    [TestCase("OtherHumanTimesOut", RunStatus.Failed)]
    [TestCase("ProjectionFindsTheRunEnded", RunStatus.Cancelled)]
    [TestCase("ProjectionFails", RunStatus.Failed)]
    public void RunAsync_RunEndsWhileAHumanWaits_CancelsEveryPendingTimer(string exit, RunStatus status)
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(humanTimeoutSeconds: 60), Human("T1"), Agent("T2"), Human("T3"), Agent("T4", "T1", "T2", "T3"));
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
            case "ProjectionFindsTheRunEnded":
                run.ProjectionAccepts = _ => false;
                run.CompleteAgent("T2");
                break;
            default:
                run.ProjectionFailure = t => t.Status == RunStatus.Failed ? null : "table unavailable";
                run.CompleteAgent("T2");
                break;
        }

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome().Status, Is.EqualTo(status));
            Assert.That(run.Timers[0].Token.IsCancellationRequested, Is.True, "T1's timer");
            Assert.That(run.PendingTimers, Is.Empty);
        });
    }

    [Test]
    public void RunAsync_DraftRejectedWhileTheParallelBoundIsReached_QueuesTheRedoUntilASlotFrees()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(maxParallel: 1, requireApproval: true), Agent("T1"), Agent("T2"), Agent("T3", "T1", "T2"));
        run.CompleteAgent("T1");
        Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2" }), "T2 took the slot T1 left");

        run.Answer("T1", 0, HumanDecision.Rejected);

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2" }), "the redo waits for the slot");
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(run.Transitions.SelectMany(t => t.Tasks), Has.None.Matches<TaskTransition>(t => t.State == TaskState.Pending),
                "the request that sent the draft back showed the redo running; nothing moves it back to pending");
        });

        run.CompleteAgent("T2");

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2", "T1" }));
            Assert.That(run.LastTransition.Tasks, Is.EqualTo(new[] { new TaskTransition("T1", TaskState.Running) }));
            Assert.That(run.AgentsInFlight, Is.EqualTo(new[] { "T1" }));
        });
        run.AssertBlocked();
    }

    [Test]
    public void RunAsync_DraftRejectedWithASlotFree_ProjectsTheRedoRunningOnly()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(maxParallel: 2, requireApproval: true), Agent("T1"), Agent("T2", "T1"));
        run.CompleteAgent("T1");

        run.Answer("T1", 0, HumanDecision.Rejected);

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T1" }));
            Assert.That(run.LastTransition.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(run.LastTransition.Tasks, Is.EqualTo(new[] { new TaskTransition("T1", TaskState.Running) }), "no pending in between");
        });
    }

    [Test]
    public void RunAsync_ProjectionFailsAfterItsRetries_RecordsTheRunFailedNamingTheCause()
    {
        var run = new FakeRun { ProjectionFailure = t => t.Status == RunStatus.Running ? "Table Storage returned 503" : null };

        run.StartPlanned(Engine(), Agent("T1"), Agent("T2", "T1"));

        var expected = RunErrors.ProjectionFailed("Table Storage returned 503");
        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Failed, expected)));
            Assert.That(expected, Does.Contain("Table Storage returned 503"));
            Assert.That(run.Transitions.Select(t => t.Status), Is.EqualTo(new[] { RunStatus.Running, RunStatus.Failed }));
            Assert.That(run.LastTransition.Error, Is.EqualTo(expected));
            Assert.That(run.LastTransition.Tasks, Is.EquivalentTo(new[]
            {
                new TaskTransition("T1", TaskState.Cancelled), new TaskTransition("T2", TaskState.Cancelled),
            }));
            Assert.That(run.StartedTasks, Is.Empty, "nothing starts that the projection does not show");
            Assert.That(run.ProjectedStatus, Is.EqualTo(RunStatus.Failed));
        });
    }

    [Test]
    public void RunAsync_ProjectionFailsWhileRecordingAFailure_TriesOnceMoreThenStops()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(), Agent("T1"));
        var failures = 0;
        run.ProjectionFailure = t => t.Status == RunStatus.Failed && failures++ == 0 ? "Table Storage returned 503" : null;

        run.FailAgent("T1", "model quota exceeded");

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Failed, RunErrors.ProjectionFailed("Table Storage returned 503"))));
            Assert.That(run.Transitions.Select(t => t.Status), Is.EqualTo(new[] { RunStatus.Running, RunStatus.Failed, RunStatus.Failed }));
            Assert.That(run.ProjectedStatus, Is.EqualTo(RunStatus.Failed));
        });
    }

    [Test]
    public void RunAsync_LastProjectionAttemptFailsToo_FailsTheOrchestrationLoudly()
    {
        var run = new FakeRun();
        run.StartPlanned(Engine(humanTimeoutSeconds: 60), Human("T1"), Agent("T2"), Agent("T3", "T1", "T2"));
        run.ProjectionFailure = _ => "Table Storage is gone";

        run.CompleteAgent("T2");

        Assert.Multiple(() =>
        {
            Assert.That(run.Fault, Is.TypeOf<TaskFailedException>().With.Message.Contains(nameof(ProjectRunActivity)));
            Assert.That(run.Transitions.Select(t => t.Status), Is.EqualTo(new[] { RunStatus.Running, RunStatus.WaitingHuman, RunStatus.Failed }));
            Assert.That(run.Timers.Single().Token.IsCancellationRequested, Is.True, "T1's timer");
        });
    }
}
