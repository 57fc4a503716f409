using Orchflow.Domain;

namespace Orchflow.Tests.Domain;

/// <summary>
/// The rules of a run's states (docs/api.md, "States"), each decided by <see cref="RunTransitions"/> alone: no store, no
/// engine. Every decision is also checked for the events it logs: one per task state and run status it changes.
/// </summary>
[TestFixture]
public sealed class RunTransitionsTests
{
    static readonly DateTimeOffset Now = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Test]
    public void BeginPlanning_QueuedRun_PlansAndLogsRunPlanning()
    {
        var decision = RunTransitions.BeginPlanning(Queued(), 0);

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Status, Is.EqualTo(RunStatus.Planning));
            Assert.That(Types(decision), Is.EqualTo(new[] { "run.planning" }));
        });
    }

    [Test]
    public void SavePlan_Planned_TasksPendingRunStillPlanningCostAdded()
    {
        var decision = RunTransitions.SavePlan(Planning() with { Usage = new TokenUsage(1, 1) }, Save(awaitReview: false));

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Status, Is.EqualTo(RunStatus.Planning), "it runs when its first tasks start");
            Assert.That(decision.After.Tasks.Select(t => t.State), Is.All.EqualTo(TaskState.Pending));
            Assert.That(decision.After.Usage, Is.EqualTo(new TokenUsage(11, 21)));
            Assert.That(Types(decision), Is.EqualTo(new[] { "run.planned" }));
        });
    }

    [Test]
    public void SavePlan_ForReview_WaitsOnThePlan()
    {
        var decision = RunTransitions.SavePlan(Planning(), Save(awaitReview: true));

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(decision.After.WaitingOn, Is.EqualTo(new[] { "plan" }));
            Assert.That(Types(decision), Is.EqualTo(new[] { "run.planned", "plan.waiting_review", "run.waiting_human" }));
        });
    }

    [Test]
    public void Then_PlanningAndItsPlan_OneChangeWithBothEventsInOrder()
    {
        var queued = Queued();

        var decision = RunTransitions.BeginPlanning(queued, 0).Then(queued, planning => RunTransitions.SavePlan(planning, Save(awaitReview: true)));

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(decision.After.Tasks, Has.Count.EqualTo(RunTransitions.SavePlan(Planning(), Save(awaitReview: true)).After!.Tasks.Count));
            Assert.That(Types(decision), Is.EqualTo(new[] { "run.planning", "run.planned", "plan.waiting_review", "run.waiting_human" }));
        });
    }

    [Test]
    public void Then_StartAndResult_WritesTheOutputAndLogsTheStartFirst()
    {
        var planned = Planned();
        var result = new AgentResult("Findings.", new TokenUsage(1, 2), AwaitApproval: false);

        var decision = RunTransitions.StartAgent(planned, 0, "T2", Now)
            .Then(planned, started => RunTransitions.FinishAgent(started, 0, "T2", result, Now.AddSeconds(1)));

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Task("T2")!.State, Is.EqualTo(TaskState.Completed));
            Assert.That(decision.After.Task("T2")!.StartedAt, Is.EqualTo(Now));
            Assert.That(decision.Outputs, Is.EqualTo(new Dictionary<string, string?> { ["T2"] = "Findings." }));
            Assert.That(Types(decision), Is.EqualTo(new[] { "task.started T2", "run.running", "task.completed T2" }),
                "each change's events, the start's first, as two changes would have logged them");
        });
    }

    [Test]
    public void Then_FirstUnchanged_IsTheSecondAlone_SecondUnchangedWritesNothing_AndARefusalOfEitherRefusesBoth()
    {
        var planning = Planning();
        var save = RunTransitions.SavePlan(planning, Save(awaitReview: false));
        var ended = Planned() with { Status = RunStatus.Cancelled };

        Assert.Multiple(() =>
        {
            Assert.That(Types(RunTransitions.BeginPlanning(planning, 0).Then(planning, p => RunTransitions.SavePlan(p, Save(awaitReview: false)))),
                Is.EqualTo(Types(save)), "already planning: the plan alone");
            Assert.That(RunTransitions.StartAgent(ended, 0, "T2", Now).Then(ended, s => RunTransitions.FinishAgent(s, 0, "T2", new AgentResult("x", TokenUsage.Zero, false), Now)).Refusal?.Kind,
                Is.EqualTo(RefusalKind.Superseded), "refused first: never decided further");
            var planned = Planned();
            Assert.That(RunTransitions.StartAgent(planned, 0, "T2", Now).Then(planned, _ => Decision.Refused(RefusalKind.Conflict, "no")).Refusal?.Kind,
                Is.EqualTo(RefusalKind.Conflict), "refused second: nothing written");
            var queued = Queued() with { Tasks = planned.Tasks, PlannedRound = 0 };
            Assert.That(RunTransitions.BeginPlanning(queued, 0).Then(queued, p => RunTransitions.SavePlan(p, Save(awaitReview: false))),
                Is.SameAs(Decision.Unchanged), "the plan saved already (an earlier execution): planning is not announced again");
        });
    }

    [Test]
    public void SavePlan_SavedBefore_ChangesNothing()
    {
        var planned = RunTransitions.SavePlan(Planning(), Save(awaitReview: false)).After!;

        Assert.That(RunTransitions.SavePlan(planned, Save(awaitReview: false)), Is.SameAs(Decision.Unchanged));
    }

    [Test]
    public void StartTasks_HumanAndAgent_HumanWaitsAgentRunsRunRuns()
    {
        var decision = RunTransitions.StartTasks(Planned(), 0, ["T1"], ["T2"], Now);

        Assert.Multiple(() =>
        {
            Assert.That(States(decision.After!), Is.EqualTo("T1 waiting_human, T2 running, T3 pending"));
            Assert.That(decision.After!.Status, Is.EqualTo(RunStatus.Running), "an agent runs: not waiting, though T1 waits");
            Assert.That(decision.After.Task("T2")!.StartedAt, Is.EqualTo(Now));
            Assert.That(Types(decision), Is.EqualTo(new[] { "task.waiting_human T1", "task.started T2", "run.running" }));
        });
    }

    [Test]
    public void StartTasks_HumanAlone_RunWaits()
    {
        var decision = RunTransitions.StartTasks(Planned(), 0, ["T1"], [], Now);

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(decision.Events.Single(e => e.Type == "task.waiting_human").Data["prompt"]!.GetValue<string>(), Is.EqualTo("Tell us about the company."));
        });
    }

    [Test]
    public void FinishAgent_LastAgentWhileAHumanWaits_RunWaitsInTheSameWrite()
    {
        var running = RunTransitions.StartTasks(Planned(), 0, ["T1"], ["T2"], Now).After!;

        var decision = RunTransitions.FinishAgent(running, 0, "T2", new AgentResult("Findings.", new TokenUsage(3, 4), AwaitApproval: false), Now);

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(decision.Outputs, Is.EqualTo(new Dictionary<string, string?> { ["T2"] = "Findings." }));
            Assert.That(decision.After.Task("T2")!.Usage, Is.EqualTo(new TokenUsage(3, 4)));
            Assert.That(decision.After.Usage, Is.EqualTo(running.Usage + new TokenUsage(3, 4)), "the plan's cost and the task's");
            Assert.That(Types(decision), Is.EqualTo(new[] { "task.completed T2", "run.waiting_human" }));
        });
    }

    [Test]
    public void FinishAgent_UnderApproval_DraftWaitsAndSaysADraftIsAvailable()
    {
        var running = RunTransitions.StartAgent(Planned(), 0, "T2", Now).After!;

        var decision = RunTransitions.FinishAgent(running, 0, "T2", new AgentResult("A draft.", TokenUsage.Zero, AwaitApproval: true), Now);

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Task("T2")!.State, Is.EqualTo(TaskState.WaitingHuman));
            Assert.That(decision.After.Task("T2")!.CompletedAt, Is.Null);
            Assert.That(decision.After.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(decision.Events[0].Data["draft_available"]!.GetValue<bool>(), Is.True);
        });
    }

    [TestCase(TaskState.Cancelled)]
    [TestCase(TaskState.Completed)]
    public void FinishAgent_TaskNoLongerRunning_IsRefusedAndTheOutputDropped(TaskState state)
    {
        var run = Planned() with { Status = RunStatus.Running, Tasks = [.. Planned().Tasks.Select(t => t.TaskId == "T2" ? t with { State = state } : t)] };

        var decision = RunTransitions.FinishAgent(run, 0, "T2", new AgentResult("Late.", TokenUsage.Zero, false), Now);

        Assert.That(decision.Refusal?.Kind, Is.EqualTo(RefusalKind.Conflict));
    }

    [Test]
    public void EngineRequests_FromAnAttemptARetryReplaced_AreRefusedAsSuperseded()
    {
        var run = Planned() with { Attempt = 1 };

        Assert.Multiple(() =>
        {
            Assert.That(RunTransitions.StartAgent(run, 0, "T2", Now).Refusal?.Kind, Is.EqualTo(RefusalKind.Superseded));
            Assert.That(RunTransitions.Fail(run, 0, "boom", null, Now).Refusal?.Kind, Is.EqualTo(RefusalKind.Superseded));
            Assert.That(RunTransitions.Cancel(run, Now, attempt: 0).Refusal?.Kind, Is.EqualTo(RefusalKind.Superseded));
            Assert.That(RunTransitions.Complete(run, 0, "Final.", TokenUsage.Zero).Refusal?.Kind, Is.EqualTo(RefusalKind.Superseded));
        });
    }

    [Test]
    public void Answer_HumanTask_CompletesItWithTheAnswerAndTheRunRunsOn()
    {
        var waiting = RunTransitions.StartTasks(Planned(), 0, ["T1"], [], Now).After!;

        var decision = RunTransitions.Answer(waiting, "T1", new HumanAnswer(null, "We sell software.", null), Now);

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Task("T1")!.State, Is.EqualTo(TaskState.Completed));
            Assert.That(decision.Outputs["T1"], Is.EqualTo("We sell software."));
            Assert.That(decision.After.Status, Is.EqualTo(RunStatus.Running), "nothing waits any more: the run is about to move on");
            Assert.That(Types(decision), Is.EqualTo(new[] { "task.completed T1", "run.running" }));
        });
    }

    [TestCase(true, null, null, TaskState.Completed, null)]
    [TestCase(null, "Edited draft.", null, TaskState.Completed, "Edited draft.")]
    [TestCase(true, "Edited draft.", null, TaskState.Completed, "Edited draft.")]
    [TestCase(false, null, "Shorter, please.", TaskState.Running, null)]
    public void Answer_Draft_ApprovedKeptEditedOrSentBack(bool? approved, string? output, string? feedback, TaskState state, string? written)
    {
        var decision = RunTransitions.Answer(Draft(), "T2", new HumanAnswer(approved, output, feedback), Now);

        var task = decision.After!.Task("T2")!;
        Assert.Multiple(() =>
        {
            Assert.That(task.State, Is.EqualTo(state));
            Assert.That(decision.Outputs.GetValueOrDefault("T2"), Is.EqualTo(written), "kept drafts are not written again");
            Assert.That(task.ReviewRound, Is.EqualTo(state == TaskState.Running ? 1 : 0));
            Assert.That(task.Feedback, Is.EqualTo(feedback));
            Assert.That(decision.After.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(Types(decision)[0], Is.EqualTo(state == TaskState.Running ? "task.revision_requested T2" : "task.completed T2"));
        });
    }

    [TestCase(false, null, null, "feedback")]
    [TestCase(false, "Edited.", "Shorter.", "output")]
    [TestCase(null, null, null, "approved")]
    public void Answer_DraftWithAnUnfitAnswer_IsInvalidNamingTheField(bool? approved, string? output, string? feedback, string field)
    {
        var decision = RunTransitions.Answer(Draft(), "T2", new HumanAnswer(approved, output, feedback), Now);

        Assert.Multiple(() =>
        {
            Assert.That(decision.Refusal?.Kind, Is.EqualTo(RefusalKind.Invalid));
            Assert.That(decision.Refusal?.Field, Is.EqualTo(field));
        });
    }

    [Test]
    public void Answer_HumanTaskWithoutText_IsInvalidNamingOutput()
    {
        var waiting = RunTransitions.StartTasks(Planned(), 0, ["T1"], [], Now).After!;

        Assert.That(RunTransitions.Answer(waiting, "T1", new HumanAnswer(true, null, null), Now).Refusal, Is.EqualTo(
            new Refusal(RefusalKind.Invalid, "'output' is required: the answer the run is waiting for.", "output")));
    }

    [Test]
    public void Answer_TaskNotWaitingOrRunEndedOrNoSuchTask_IsRefusedInThatOrderOfChecks()
    {
        var pending = Planned() with { Status = RunStatus.Running };
        var cancelled = RunTransitions.Cancel(Draft(), Now).After!;
        var answer = new HumanAnswer(null, "An answer.", null);

        Assert.Multiple(() =>
        {
            Assert.That(RunTransitions.Answer(pending, "T1", answer, Now).Refusal?.Kind, Is.EqualTo(RefusalKind.Conflict));
            Assert.That(RunTransitions.Answer(cancelled, "T2", new HumanAnswer(true, null, null), Now).Refusal?.Detail, Does.Contain("cancelled"));
            Assert.That(RunTransitions.Answer(pending, "T9", answer, Now).Refusal?.Kind, Is.EqualTo(RefusalKind.NotFound));
            Assert.That(RunTransitions.Answer(pending, "T1", new HumanAnswer(null, null, null), Now).Refusal?.Kind, Is.EqualTo(RefusalKind.Invalid),
                "an unfit answer is named before the task's state");
        });
    }

    [Test]
    public void Reopen_AnswerTheRunNeverHeard_TheTaskWaitsAgainOnItsRound()
    {
        var sentBack = RunTransitions.Answer(Draft(), "T2", new HumanAnswer(false, null, "Shorter."), Now).After!;
        var approved = RunTransitions.Answer(Draft(), "T2", new HumanAnswer(true, null, null), Now).After!;

        var decision = RunTransitions.Reopen(sentBack, "T2", round: 0, sentBack.Task("T2")!);
        var reapproved = RunTransitions.Reopen(approved, "T2", round: 0, approved.Task("T2")!);

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Task("T2")!.State, Is.EqualTo(TaskState.WaitingHuman));
            Assert.That(decision.After.Task("T2")!.ReviewRound, Is.Zero);
            Assert.That(decision.After.Status, Is.EqualTo(RunStatus.WaitingHuman));
            Assert.That(reapproved.After!.Task("T2")!.State, Is.EqualTo(TaskState.WaitingHuman));
            Assert.That(RunTransitions.Reopen(decision.After, "T2", 0, sentBack.Task("T2")!), Is.SameAs(Decision.Unchanged), "nothing to take back twice");
            Assert.That(RunTransitions.Reopen(approved, "T2", 0, sentBack.Task("T2")!), Is.SameAs(Decision.Unchanged),
                "a task no longer as the answer left it stays");
        });
    }

    [Test]
    public void Cancel_LiveRun_CancelsRunningWaitingAndPendingTasksAndKeepsCompletedOnes()
    {
        var run = RunTransitions.FinishAgent(RunTransitions.StartTasks(Planned(), 0, ["T1"], ["T2"], Now).After!, 0, "T2",
            new AgentResult("Done.", TokenUsage.Zero, false), Now).After!;

        var decision = RunTransitions.Cancel(run, Now);

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(States(decision.After), Is.EqualTo("T1 cancelled, T2 completed, T3 cancelled"));
            Assert.That(Types(decision), Is.EqualTo(new[] { "task.cancelled T1", "task.cancelled T3", "run.cancelled" }));
            Assert.That(RunTransitions.Cancel(decision.After, Now), Is.SameAs(Decision.Unchanged), "cancelling a cancelled run changes nothing");
            Assert.That(RunTransitions.Cancel(run with { Status = RunStatus.Completed }, Now).Refusal?.Kind, Is.EqualTo(RefusalKind.Conflict));
        });
    }

    [Test]
    public void Fail_WithATask_FailsItCancelsTheOpenRestAndNamesTheError()
    {
        var run = RunTransitions.StartTasks(Planned(), 0, ["T1"], ["T2"], Now).After!;

        var decision = RunTransitions.Fail(run, 0, "Task T2 failed: quota.", "T2", Now);

        Assert.Multiple(() =>
        {
            Assert.That(States(decision.After!), Is.EqualTo("T1 cancelled, T2 failed, T3 cancelled"));
            Assert.That(decision.After!.Error, Is.EqualTo("Task T2 failed: quota."));
            Assert.That(decision.Events[^1].Data["error"]!.GetValue<string>(), Is.EqualTo("Task T2 failed: quota."));
            Assert.That(RunTransitions.Fail(decision.After, 0, "again", null, Now), Is.SameAs(Decision.Unchanged));
        });
    }

    [Test]
    public void TimeOut_UnansweredHumanTask_FailsTheTaskAndTheRunSayingHowLong()
    {
        var waiting = RunTransitions.StartTasks(Planned(), 0, ["T1"], [], Now).After!;

        var decision = RunTransitions.TimeOut(waiting, 0, "T1", 90, Now);

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Status, Is.EqualTo(RunStatus.Failed));
            Assert.That(decision.After.Task("T1")!.Error, Is.EqualTo(RunErrors.HumanTimedOut("T1", 90)));
        });
    }

    [Test]
    public void Retry_FailedRun_CompletedTasksStayTheRestRunAgainUnderTheNextAttempt()
    {
        var failed = RunTransitions.Fail(RunTransitions.FinishAgent(RunTransitions.StartTasks(Planned(), 0, ["T1"], ["T2"], Now).After!, 0, "T2",
            new AgentResult("Done.", TokenUsage.Zero, false), Now).After!, 0, "Task T1 timed out.", "T1", Now).After!;

        var decision = RunTransitions.Retry(failed);

        Assert.Multiple(() =>
        {
            Assert.That(decision.After!.Status, Is.EqualTo(RunStatus.Queued));
            Assert.That(decision.After.Attempt, Is.EqualTo(1));
            Assert.That(decision.After.Error, Is.Null);
            Assert.That(States(decision.After), Is.EqualTo("T1 pending, T2 completed, T3 pending"));
            Assert.That(decision.Outputs.Keys, Is.EquivalentTo(new[] { "T1", "T3" }), "what runs again starts without an output");
            Assert.That(decision.Outputs.Values, Is.All.Null);
            Assert.That(Types(decision), Is.EqualTo(new[] { "run.retried", "run.queued" }));
            Assert.That(RunTransitions.Retry(decision.After).Refusal?.Kind, Is.EqualTo(RefusalKind.Conflict), "only a failed or cancelled run");
        });
    }

    [Test]
    public void ReviewPlan_ApprovedSentBackOrNotWaiting()
    {
        var waiting = RunTransitions.SavePlan(Planning(), Save(awaitReview: true)).After!;
        var edited = new List<PlannedTask> { new("T1", "Research", "", TaskKind.Agent, "research", []) };

        var approved = RunTransitions.ReviewPlan(waiting, new PlanVerdict(true, null, null));
        var asEdited = RunTransitions.ReviewPlan(waiting, new PlanVerdict(true, edited, null));
        var sentBack = RunTransitions.ReviewPlan(waiting, new PlanVerdict(false, null, "Add a legal review."));

        Assert.Multiple(() =>
        {
            Assert.That(approved.After!.Status, Is.EqualTo(RunStatus.Running));
            Assert.That(approved.After.WaitingOn, Is.Empty);
            Assert.That(asEdited.After!.Tasks.Select(t => t.TaskId), Is.EqualTo(new[] { "T1" }));
            Assert.That(asEdited.After.PlannedBy, Is.EqualTo(RunPlan.ByUser));
            Assert.That(sentBack.After!.Status, Is.EqualTo(RunStatus.Planning));
            Assert.That(sentBack.After.PlanRound, Is.EqualTo(1));
            Assert.That(Types(sentBack), Is.EqualTo(new[] { "plan.reviewed", "run.planning" }));
            Assert.That(RunTransitions.ReviewPlan(approved.After, new PlanVerdict(true, null, null)).Refusal?.Kind, Is.EqualTo(RefusalKind.Conflict));
        });
    }

    static string[] Types(Decision decision) => decision.Events.Select(e => $"{e.Type} {e.TaskId}".Trim()).ToArray();

    static string States(RunState run) => string.Join(", ", run.Tasks.Select(t => $"{t.TaskId} {t.State.ToWire()}"));

    static RunState Queued() => new() { RunId = "run_1", AccountId = "acc_1", Status = RunStatus.Queued };

    static RunState Planning() => Queued() with { Status = RunStatus.Planning };

    static PlanSave Save(bool awaitReview) => new(0, 0, new RunPlan(
    [
        new PlannedTask("T1", "Company details", "", TaskKind.Human, null, [], "Tell us about the company."),
        new PlannedTask("T2", "Research", "", TaskKind.Agent, "research", []),
        new PlannedTask("T3", "Write", "", TaskKind.Agent, "writer", ["T1", "T2"]),
    ], "test"), new TokenUsage(10, 20), [], awaitReview);

    static RunState Planned() => RunTransitions.SavePlan(Planning(), Save(awaitReview: false)).After!;

    /// <summary>A run whose T2 draft waits for approval, nothing else under way.</summary>
    static RunState Draft() => RunTransitions.FinishAgent(RunTransitions.StartAgent(Planned(), 0, "T2", Now).After!, 0, "T2",
        new AgentResult("A draft.", TokenUsage.Zero, AwaitApproval: true), Now).After!;
}
