namespace Orchflow.Domain;

/// <summary>The changes people ask for: answers and verdicts on drafts, plan reviews, cancels and retries.</summary>
public static partial class RunTransitions
{
    /// <summary>
    /// A person answers a task the run waits on: a human task takes the text; a draft is approved as it is or as edited
    /// (done), or sent back with feedback (the agent runs it again). Refused when the run has no such task (404), the
    /// answer does not fit the task (422), or the task is not waiting (409), checked in that order.
    /// </summary>
    public static Decision Answer(RunState run, string taskId, HumanAnswer answer, DateTimeOffset now)
    {
        if (run.Task(taskId) is not { } task)
        {
            return Decision.Refused(RefusalKind.NotFound, $"Run {run.RunId} has no task '{taskId}'.");
        }

        if (task is { State: TaskState.WaitingHuman, PendingToolCall: { } call } && !run.Status.IsTerminal())
        {
            return AnswerToolCall(run, task, call, answer, now);
        }

        if (Unfit(task, answer) is { } unfit)
        {
            return unfit;
        }

        if (run.Status.IsTerminal())
        {
            return Decision.Refused(RefusalKind.Conflict, $"Run {run.RunId} is {run.Status.ToWire()}; its tasks can no longer be completed.");
        }

        if (task.State != TaskState.WaitingHuman)
        {
            return Decision.Refused(RefusalKind.Conflict,
                $"Task {taskId} is {task.State.ToWire()}, not waiting_human; only a task the run is waiting on can be completed.");
        }

        if (answer.Approved == false)
        {
            var redo = task with { State = TaskState.Running, Feedback = answer.Feedback, ReviewRound = task.ReviewRound + 1, CompletedAt = null };
            return Change(run, run with { Tasks = Replace(run.Tasks, redo) });
        }

        // A form's answer reaches the agents as text, field by field; the fields themselves are kept as sent.
        var output = answer.Input is { } input && task.InputSchema is { } schema ? FormAnswers.Text(schema, input) : answer.Output;
        var done = task with { State = TaskState.Completed, CompletedAt = now, Feedback = null, Input = task.Kind == TaskKind.Human ? answer.Input : task.Input };
        var outputs = output is null ? new Dictionary<string, string?>() : new Dictionary<string, string?> { [taskId] = output };
        return Change(run, run with { Tasks = Replace(run.Tasks, done) }) with { Outputs = outputs };
    }

    /// <summary>
    /// Takes back an answer the run never heard (its event could not be raised): the task, as <paramref name="answered"/>
    /// left it, waits again for round <paramref name="round"/>, so the person can answer again. The answer's text stays,
    /// as a draft to answer from. Changes nothing when the task is no longer as that answer left it.
    /// </summary>
    public static Decision Reopen(RunState run, string taskId, int round, TaskRecord answered)
    {
        var asAnswered = run.Task(taskId) is { } task && !run.Status.IsTerminal() &&
                         task.State == answered.State && task.ReviewRound == answered.ReviewRound && task.CompletedAt == answered.CompletedAt &&
                         (task.State == TaskState.Completed && task.ReviewRound == round ||
                          task is { State: TaskState.Running, Kind: TaskKind.Agent } && task.ReviewRound == round + 1);
        if (!asAnswered)
        {
            return Decision.Unchanged;
        }

        var waiting = run.Task(taskId)! with { State = TaskState.WaitingHuman, ReviewRound = round, CompletedAt = null };
        return Change(run, run with { Tasks = Replace(run.Tasks, waiting) });
    }

    /// <summary>
    /// A person's verdict on the plan the run waits on: approved, it runs (as edited, if it was); sent back, the run
    /// plans again with the feedback, the plan shown meanwhile. Refused (409) unless the run waits on its plan.
    /// </summary>
    public static Decision ReviewPlan(RunState run, PlanVerdict verdict)
    {
        if (run.Status != RunStatus.WaitingHuman || !run.AwaitingPlanReview)
        {
            return Decision.Refused(RefusalKind.Conflict,
                $"Run {run.RunId} is {run.Status.ToWire()} and not waiting on its plan; a plan can be reviewed only while the run waits on it.");
        }

        List<NewLogEntry> events = [RunLog.PlanReviewed(verdict.Approved, verdict.Plan is not null, verdict.Feedback)];
        if (!verdict.Approved)
        {
            return Change(run, run with { Status = RunStatus.Planning, AwaitingPlanReview = false, PlanRound = run.PlanRound + 1 }, events);
        }

        var after = run with { Status = RunStatus.Running, AwaitingPlanReview = false, PlanApproved = true };
        if (verdict.Plan is { } edited)
        {
            after = after with { Tasks = edited.Select(TaskRecord.FromPlan).ToList(), PlannedBy = RunPlan.ByUser };
            events.Add(RunLog.Planned(edited.Count, RunPlan.ByUser));
        }

        return Change(run, after, events);
    }

    /// <summary>
    /// The run is cancelled with every open task. Cancelling a cancelled run changes nothing; a completed or failed one
    /// refuses (409). The engine passes its <paramref name="attempt"/>, so an attempt a retry replaced cancels nothing.
    /// </summary>
    public static Decision Cancel(RunState run, DateTimeOffset now, int? attempt = null)
    {
        if (attempt is { } asked && asked != run.Attempt)
        {
            return Stale(run, asked)!;
        }

        if (run.Status.IsTerminal())
        {
            return run.Status == RunStatus.Cancelled
                ? Decision.Unchanged
                : Decision.Refused(RefusalKind.Conflict, $"Run {run.RunId} is already {run.Status.ToWire()}; only an unfinished run can be cancelled.");
        }

        var tasks = run.Tasks.Select(t => t.State.IsTerminal() ? t : Moved(t, TaskState.Cancelled, null, now)).ToList();
        return Change(run, run with { Status = RunStatus.Cancelled, Tasks = tasks, AwaitingPlanReview = false, AwaitingBudget = false });
    }

    /// <summary>
    /// A failed or cancelled run is taken up again by its next attempt: completed tasks keep their outputs, the rest go
    /// back to pending without them; a plan still to be reviewed waits on its review again. Anything else refuses (409).
    /// A managed run's retry (<paramref name="trialTokens"/> given) may spend that many tokens more.
    /// </summary>
    public static Decision Retry(RunState run, long? trialTokens = null)
    {
        if (run.Status is not (RunStatus.Failed or RunStatus.Cancelled))
        {
            return Decision.Refused(RefusalKind.Conflict, $"Run {run.RunId} is {run.Status.ToWire()}; only a failed or cancelled run can be retried.");
        }

        var reviewAgain = run.RequirePlanApproval && !run.PlanApproved && run.Tasks.Count > 0;
        var reset = run.Tasks.Where(t => t.State != TaskState.Completed).Select(t => t.TaskId).ToHashSet();
        var tasks = run.Tasks.Select(t => !reset.Contains(t.TaskId) ? t
            : t with { State = TaskState.Pending, Error = null, StartedAt = null, CompletedAt = null, Feedback = null, Input = null }).ToList();
        var after = run with
        {
            Status = reviewAgain ? RunStatus.WaitingHuman : RunStatus.Queued,
            AwaitingPlanReview = reviewAgain,
            Attempt = run.Attempt + 1,
            Error = null,
            Tasks = tasks,
            // A managed run's new attempt brings its own trial tokens, and no more.
            Budget = trialTokens is { } trial
                ? run.Budget with { MaxTokens = Math.Min((run.Budget.MaxTokens ?? 0) + trial, RunBudget.TrialCeiling(run.Attempt + 1, trial)) }
                : run.Budget,
        };
        List<NewLogEntry> events = [RunLog.Retried(run.Attempt + 1, run.Tasks.Where(t => reset.Contains(t.TaskId)).Select(t => t.TaskId))];
        if (reviewAgain)
        {
            events.Add(RunLog.PlanWaiting(run.PlanRound));
        }

        return Change(run, after, events) with { Outputs = reset.ToDictionary(id => id, string? (_) => null) };
    }

    /// <summary>
    /// Whether the answer's shape fits the task: text, or the fields of its form (checked against the form's schema),
    /// for a human task; a verdict, an edit or feedback for a draft.
    /// </summary>
    static Decision? Unfit(TaskRecord task, HumanAnswer answer)
    {
        if (task.Kind == TaskKind.Human)
        {
            return (answer.Output, answer.Input, task.InputSchema) switch
            {
                (not null, not null, _) => Decision.Refused(RefusalKind.Invalid,
                    "Send either the form's fields in 'input' or free text in 'output', not both.", FormAnswers.Field),
                (null, null, null) => Decision.Refused(RefusalKind.Invalid, "'output' is required: the answer the run is waiting for.", "output"),
                (null, null, _) => Decision.Refused(RefusalKind.Invalid,
                    "'input' is required: the form's fields as a JSON object (see the task's input_schema), or free text in 'output'.", FormAnswers.Field),
                (null, not null, null) => Decision.Refused(RefusalKind.Invalid,
                    $"Task {task.TaskId} has no form (input_schema); answer it with text in 'output'.", FormAnswers.Field),
                (null, { } input, { } schema) => Problems(FormAnswers.Check(schema, input)),
                _ => null,
            };
        }

        if (answer.Input is not null)
        {
            return Decision.Refused(RefusalKind.Invalid,
                $"'input' answers a human task's form; task {task.TaskId} waits for a verdict on its draft: 'approved', an edited 'output', or 'feedback'.",
                FormAnswers.Field);
        }

        return (answer.Approved, answer.Output, answer.Feedback) switch
        {
            (false, _, null) => Decision.Refused(RefusalKind.Invalid, "Rejecting a draft needs 'feedback': what the agent should change.", "feedback"),
            (false, not null, _) => Decision.Refused(RefusalKind.Invalid,
                "Send either an edited 'output' (approve with an edit) or 'approved': false with 'feedback', not both.", "output"),
            (false, null, _) or (_, not null, _) or (true, null, _) => null,
            _ => Decision.Refused(RefusalKind.Invalid,
                "Send {\"approved\": true}, an edited {\"output\": \"…\"}, or {\"approved\": false, \"feedback\": \"…\"}.", "approved"),
        };
    }

    /// <summary>A request refused as invalid for every one of <paramref name="problems"/>, each under its field; null when there are none.</summary>
    static Decision? Problems(IReadOnlyList<(string Field, string Message)> problems) =>
        problems.Count == 0 ? null : new Decision
        {
            Refusal = new Refusal(RefusalKind.Invalid, string.Join(" ", problems.Select(p => $"{p.Field}: {p.Message}")), problems[0].Field),
            Problems = problems,
        };
}
