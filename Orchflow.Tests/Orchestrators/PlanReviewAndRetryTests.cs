using Orchflow.Domain;
using Orchflow.Orchestrators;
using static Orchflow.Tests.Orchestrators.FakeRun;

namespace Orchflow.Tests.Orchestrators;

/// <summary>
/// The orchestrator's plan review (approve, edit, send back and plan again, too many rounds, timeout, cancel) and its
/// continuation of a retried run (what runs again, human tasks, a retry that fails again, cancel), against a strict
/// orchestration context.
/// </summary>
[TestFixture]
public sealed class PlanReviewAndRetryTests : FakeRunTests
{
    static PlanOutline ForReview(int round = 0, params TaskNode[] tasks) => new(tasks, PlanUsage, NeedsReview: true, ReviewRound: round);

    [Test]
    public void PlanReview_PlanAwaitingReview_StartsNothingUntilApproved()
    {
        var run = NewRun();
        run.Start(Engine(requirePlanApproval: true));

        run.CompletePlan(ForReview(0, Agent("T1"), Agent("T2", "T1")));

        Assert.Multiple(() =>
        {
            Assert.That(run.Waits, Does.Contain(RunEvents.PlanReview(0)));
            Assert.That(run.StartedTasks, Is.Empty, "no agent spends a token before the plan is approved");
            Assert.That(run.Records, Is.Empty, "the plan's save already shows the run waiting on it");
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(run.State.WaitingOn, Is.EqualTo(new[] { "plan" }));
        });
        run.AssertBlocked();

        run.ReviewPlan(0, new PlanReviewReply(true));

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1" }));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Running));
        });
    }

    [Test]
    public void PlanReview_ApprovedWithAnEdit_RunsTheEditedPlan()
    {
        var run = NewRun();
        run.Start(Engine(requirePlanApproval: true));
        run.CompletePlan(ForReview(0, Agent("T1"), Agent("T2", "T1")));

        run.ReviewPlan(0, new PlanReviewReply(true, new PlanOutline([Agent("T1"), Agent("T2"), Agent("T3", "T1", "T2")], PlanUsage)));

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2" }), "the edit made T2 independent of T1");
            Assert.That(run.PlanInputs, Has.Count.EqualTo(1), "an edited plan is not planned again");
        });
    }

    [Test]
    public void PlanReview_SentBack_PlansAgainWithTheFeedbackThenWaitsOnTheNextRound()
    {
        var run = NewRun();
        run.Start(Engine(requirePlanApproval: true));
        run.CompletePlan(ForReview(0, Agent("T1")));

        run.ReviewPlan(0, new PlanReviewReply(false, Feedback: "Add a legal review."));

        Assert.That(run.PlanInputs, Is.EqualTo(new[] { new PlanInput(AccountId, RunId), new PlanInput(AccountId, RunId, 0, 1, "Add a legal review.") }));
        run.CompletePlan(ForReview(1, Agent("T1"), Agent("T2", "T1")));
        Assert.Multiple(() =>
        {
            Assert.That(run.Waits, Does.Contain(RunEvents.PlanReview(1)));
            Assert.That(run.StartedTasks, Is.Empty);
        });

        run.ReviewPlan(1, new PlanReviewReply(true));

        Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1" }));
    }

    [Test]
    public void PlanReview_SentBackMoreThanMaxReviewRounds_FailsTheRunSayingSo()
    {
        var run = NewRun();
        run.Start(Engine(requirePlanApproval: true, maxReviewRounds: 1));
        run.CompletePlan(ForReview(0, Agent("T1")));
        run.ReviewPlan(0, new PlanReviewReply(false, Feedback: "Shorter."));
        run.CompletePlan(ForReview(1, Agent("T1")));

        run.ReviewPlan(1, new PlanReviewReply(false, Feedback: "Shorter still."));

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Failed, RunErrors.TooManyPlanReviews(1))));
            Assert.That(run.PlanInputs, Has.Count.EqualTo(2), "no third plan");
            Assert.That(run.State.Tasks.Select(t => t.State), Is.EqualTo(new[] { TaskState.Cancelled }));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(run.StartedTasks, Is.Empty);
        });
    }

    [Test]
    public void PlanReview_NotReviewedInTime_FailsTheRunAndCancelsTheTimerOnReview()
    {
        var run = NewRun();
        run.Start(Engine(requirePlanApproval: true, humanTimeoutSeconds: 60));
        run.CompletePlan(ForReview(0, Agent("T1")));
        Assert.That(run.PendingTimers.Count(), Is.EqualTo(1), "the plan's wait is bounded by the run's human timeout");

        run.PendingTimers.Single().Fire();

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Failed, RunErrors.PlanNotReviewed(60))));
            Assert.That(run.StartedTasks, Is.Empty);
        });
    }

    [Test]
    public void PlanReview_ApprovedInTime_CancelsTheTimer()
    {
        var run = NewRun();
        run.Start(Engine(requirePlanApproval: true, humanTimeoutSeconds: 60));
        run.CompletePlan(ForReview(0, Agent("T1")));

        run.ReviewPlan(0, new PlanReviewReply(true));

        Assert.Multiple(() =>
        {
            Assert.That(run.Timers.Single().Token.IsCancellationRequested, Is.True);
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1" }));
        });
    }

    [Test]
    public void PlanReview_CancelledWhileWaitingOnThePlan_CancelsTheRunAndItsTasks()
    {
        var run = NewRun();
        run.Start(Engine(requirePlanApproval: true));
        run.CompletePlan(ForReview(0, Agent("T1"), Human("T2")));

        run.Cancel();

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome().Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(run.State.Tasks.Select(t => t.State), Is.All.EqualTo(TaskState.Cancelled));
            Assert.That(run.State.WaitingOn, Is.Empty);
            Assert.That(run.StartedTasks, Is.Empty);
        });
    }

    [Test]
    public void Retry_CompletedTasks_AreNotRunAgainAndTheRestAre()
    {
        var run = NewRun();

        StartRetried(run, Engine(), Agent("T1") with { State = TaskState.Completed }, Agent("T2") with { State = TaskState.Completed },
            Agent("T3", "T1", "T2"), Agent("T4", "T3"));

        Assert.Multiple(() =>
        {
            Assert.That(run.PlanInputs.Single().Attempt, Is.EqualTo(1));
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T3" }), "T1 and T2 completed in the first attempt");
            Assert.That(run.AgentStarts.Single().Attempt, Is.EqualTo(1), "every write says which attempt it is from");
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Running));
        });

        run.CompleteAgent("T3");
        run.CompleteAgent("T4");

        Assert.Multiple(() =>
        {
            Assert.That(run.SynthesisInputs.Single(), Is.EqualTo(new SynthesisInput(AccountId, RunId, Attempt: 1)));
            Assert.That(run.State.Usage, Is.EqualTo(AgentUsage + AgentUsage), "the retry's own costs add to what the run had");
        });
    }

    [Test]
    public void Retry_HumanTaskNeverAnswered_WaitsAgainOnItsRound()
    {
        var run = NewRun();

        StartRetried(run, Engine(requireApproval: true), Human("T1") with { Round = 0 }, Agent("T2") with { Round = 2 });

        Assert.That(run.Waits, Does.Contain(RunEvents.Human("T1", 0)));
        run.CompleteAgent("T2");
        Assert.That(run.Waits, Does.Contain(RunEvents.Human("T2", 2)), "a draft sent back twice before waits on its third review");
    }

    [Test]
    public void Retry_EveryTaskCompletedBefore_RunsAndSynthesizesAnew()
    {
        var run = NewRun();

        StartRetried(run, Engine(), Agent("T1") with { State = TaskState.Completed });
        run.CompleteSynthesis();

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.Empty);
            Assert.That(run.SynthesisInputs, Has.Count.EqualTo(1));
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Completed)));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Completed));
        });
    }

    [Test]
    public void Retry_FailsAgain_FailsTheRunNamingTheTask()
    {
        var run = NewRun();
        StartRetried(run, Engine(), Agent("T1") with { State = TaskState.Completed }, Agent("T2", "T1"));

        run.FailAgent("T2", "HTTP 503 from the provider");

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome().Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(run.State.Tasks.Select(t => (t.State, t.Error)), Is.EqualTo(new[]
            {
                (TaskState.Completed, (string?)null), (TaskState.Failed, RunErrors.TaskFailed("T2", "HTTP 503 from the provider")),
            }), "T1 stays completed");
        });
    }

    [Test]
    public void Retry_CancelledDuringTheRetry_CancelsWhatIsOpen()
    {
        var run = NewRun();
        StartRetried(run, Engine(), Agent("T1") with { State = TaskState.Completed }, Agent("T2", "T1"), Agent("T3", "T2"));

        run.Cancel();

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome().Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(run.State.Tasks.Select(t => t.State), Is.EqualTo(new[] { TaskState.Completed, TaskState.Cancelled, TaskState.Cancelled }),
                "T1 completed and stays so");
        });
    }

    [Test]
    public void Retry_PlanStillAwaitingItsReview_WaitsOnTheReviewAgain()
    {
        var run = NewRun();
        run.Start(Engine(requirePlanApproval: true), retried: [Agent("T1")], planApproved: false);
        Assert.That(run.State.WaitingOn, Is.EqualTo(new[] { "plan" }));

        run.CompletePlan(ForReview(0, Agent("T1")));

        Assert.Multiple(() =>
        {
            Assert.That(run.Waits, Does.Contain(RunEvents.PlanReview(0)));
            Assert.That(run.StartedTasks, Is.Empty);
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.WaitingHuman));
        });
    }

    /// <summary>A run that failed with these tasks (those marked completed done), retried: its orchestration started and given its plan.</summary>
    static void StartRetried(FakeRun run, EngineSettings engine, params TaskNode[] tasks)
    {
        run.Start(engine, retried: tasks);
        run.CompletePlan(new PlanOutline(tasks, PlanUsage));
    }
}
