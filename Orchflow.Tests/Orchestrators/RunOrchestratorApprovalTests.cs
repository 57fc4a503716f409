using Orchflow.Domain;
using Orchflow.Orchestrators;
using static Orchflow.Tests.Orchestrators.FakeRun;

namespace Orchflow.Tests.Orchestrators;

/// <summary>Drafts under <c>require_approval</c>: waiting, approved, sent back and redone, and where the run stands meanwhile.</summary>
[TestFixture]
public sealed class RunOrchestratorApprovalTests : FakeRunTests
{
    [Test]
    public void RunAsync_ApprovalRequired_WaitsForApprovalBeforeDependantsStart()
    {
        var run = NewRun();
        run.StartPlanned(Engine(requireApproval: true), Human("T1"), Agent("T2", "T1"), Agent("T3", "T2"));
        run.Answer("T1", 0, HumanDecision.Accepted);
        Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T2" }));

        run.CompleteAgent("T2");

        Assert.Multiple(() =>
        {
            Assert.That(run.Waits[^1], Is.EqualTo("human:T2:0"));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(run.State.WaitingOn, Is.EqualTo(new[] { "T2" }));
            Assert.That(run.StartedTasks, Has.No.Member("T3"));
        });
        run.AssertBlocked();

        run.Answer("T2", 0, HumanDecision.Accepted);

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T2", "T3" }));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Running));
        });
    }

    [Test]
    public void RunAsync_TwoDraftsWaitWhileNothingRuns_TheRunWaitsOnBothAtOnce()
    {
        var run = NewRun();
        run.StartPlanned(Engine(requireApproval: true), Agent("T1"), Agent("T2"), Agent("T3", "T1", "T2"));

        run.RecordAgentResult("T1");
        Assert.That(run.State.Status, Is.EqualTo(RunStatus.Running), "T2 still runs");
        run.RecordAgentResult("T2");

        Assert.Multiple(() =>
        {
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.WaitingHuman), "waiting from the moment the last draft is written, before the orchestrator hears of it");
            Assert.That(run.State.WaitingOn, Is.EqualTo(new[] { "T1", "T2" }));
        });
    }

    [Test]
    public void RunAsync_ApprovedDraftIsTheLastTask_CompletesTheRun()
    {
        var run = NewRun();
        run.StartPlanned(Engine(requireApproval: true), Agent("T1"));
        run.CompleteAgent("T1");
        Assert.That(run.SynthesisInputs, Is.Empty, "the draft is not approved yet");

        run.Answer("T1", 0, HumanDecision.Accepted);
        run.CompleteSynthesis();

        Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Completed)));
    }

    [Test]
    public void RunAsync_DraftRejected_RunsAtOnceAndRedoesTheTaskThenWaitsOnTheNextRound()
    {
        var run = NewRun();
        run.StartPlanned(Engine(requireApproval: true), Agent("T1"), Agent("T2", "T1"));
        run.CompleteAgent("T1");

        run.Answer("T1", 0, HumanDecision.Rejected);

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T1" }));
            Assert.That(run.StateOf("T1"), Is.EqualTo(TaskState.Running));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Running), "the send-back itself runs the redo");
            Assert.That(run.State.Task("T1")!.ReviewRound, Is.EqualTo(1));
        });

        run.CompleteAgent("T1");

        Assert.Multiple(() =>
        {
            Assert.That(run.Waits.Where(w => w.StartsWith("human:", StringComparison.Ordinal)), Is.EqualTo(new[] { "human:T1:0", "human:T1:1" }));
            Assert.That(run.StartedTasks, Has.No.Member("T2"));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.WaitingHuman));
        });

        run.Answer("T1", 1, HumanDecision.Accepted);
        Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T1", "T2" }));
    }

    [Test]
    public void RunAsync_DraftRejectedMoreThanMaxReviewRounds_FailsTheRun()
    {
        var run = NewRun();
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
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(run.State.Task("T1")!.Error, Is.EqualTo(expected));
            Assert.That(run.StateOf("T1"), Is.EqualTo(TaskState.Failed));
            Assert.That(run.StateOf("T2"), Is.EqualTo(TaskState.Cancelled));
        });
    }

    [Test]
    public void RunAsync_ApprovalLandsBeforeTheOrchestratorHearsOfTheDraft_IsNotLost()
    {
        var run = NewRun();
        run.StartPlanned(Engine(requireApproval: true), Agent("T1"), Agent("T2", "T1"));
        run.RecordAgentResult("T1");
        Assert.That(run.Answer("T1", 0, HumanDecision.Accepted), Is.True, "the draft is waiting in the store");

        run.DeliverAgentResult("T1");

        Assert.Multiple(() =>
        {
            Assert.That(run.Waits, Does.Contain("human:T1:0"));
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2" }));
        });
    }

    [Test]
    public void RunAsync_AnswerBeforeTheDraftIsWritten_IsRefusedAndRaisesNothing()
    {
        var run = NewRun();
        run.StartPlanned(Engine(requireApproval: true), Agent("T1"));

        Assert.Multiple(() =>
        {
            Assert.That(run.Answer("T1", 0, HumanDecision.Accepted), Is.False);
            Assert.That(run.IsRaised(RunEvents.Human("T1", 0)), Is.False);
            Assert.That(run.StateOf("T1"), Is.EqualTo(TaskState.Running));
        });
    }

    [TestCase(true)]
    [TestCase(false)]
    public void RunAsync_ToolCallWaitsForAPerson_TheRunWaitsAndTheTaskGoesOnWhateverTheyDecide(bool approve)
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Agent("T1"), Agent("T2", "T1"));

        var callId = run.AskApprovedTool("T1");

        Assert.Multiple(() =>
        {
            Assert.That(run.Waits[^1], Is.EqualTo(RunEvents.ToolApproval("T1", callId)));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(run.State.Task("T1")!.PendingToolCall!.CallId, Is.EqualTo(callId));
        });

        Assert.That(run.AnswerToolCall("T1", approve), Is.True);

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T1" }), "the task's loop goes on in a new activity");
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(run.State.Task("T1")!.ReviewRound, Is.Zero, "a verdict on a tool call is not a review round");
        });

        run.CompleteAgent("T1");
        Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T1", "T2" }));
    }

    [Test]
    public void RunAsync_ToolCallUnansweredPastTheHumanTimeout_FailsTheRun()
    {
        var run = NewRun();
        run.StartPlanned(Engine(humanTimeoutSeconds: 60), Agent("T1"));
        run.AskApprovedTool("T1");

        run.PendingTimers.Single().Fire();

        Assert.Multiple(() =>
        {
            Assert.That(run.Outcome(), Is.EqualTo(new RunOutcome(RunStatus.Failed, RunErrors.HumanTimedOut("T1", 60))));
            Assert.That(run.State.Task("T1")!.ToolCalls.Single().State, Is.EqualTo(ToolCallState.Failed), "the call is never made");
        });
    }

    [Test]
    public void RunAsync_DraftRejectedWhileTheParallelBoundIsReached_QueuesTheRedoUntilASlotFrees()
    {
        var run = NewRun();
        run.StartPlanned(Engine(maxParallel: 1, requireApproval: true), Agent("T1"), Agent("T2"), Agent("T3", "T1", "T2"));
        run.CompleteAgent("T1");
        Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2" }), "T2 took the slot T1 left");

        run.Answer("T1", 0, HumanDecision.Rejected);

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2" }), "the redo waits for the slot");
            Assert.That(run.StateOf("T1"), Is.EqualTo(TaskState.Running), "the send-back showed the redo running; nothing moves it back to pending");
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Running));
        });

        run.CompleteAgent("T2");

        Assert.Multiple(() =>
        {
            Assert.That(run.StartedTasks, Is.EqualTo(new[] { "T1", "T2", "T1" }));
            Assert.That(run.AgentsInFlight, Is.EqualTo(new[] { "T1" }));
            Assert.That(run.State.Status, Is.EqualTo(RunStatus.Running), "T2's draft waits while T1's redo runs");
            Assert.That(run.State.WaitingOn, Is.EqualTo(new[] { "T2" }));
        });
        run.AssertBlocked();
    }
}
