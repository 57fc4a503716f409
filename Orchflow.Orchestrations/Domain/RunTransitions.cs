namespace Orchflow.Domain;

/// <summary>
/// Every change of a run and its tasks, decided in one place: each takes the run as it stands and a request, and
/// returns the new state with the events that announce it, nothing to do, or why the request is refused. Pure: the
/// HTTP handlers, the activities, the store and the orchestrator tests' fake all decide through it, so no two of them
/// can disagree. The run's status is never asked for: <see cref="Settle"/> derives it from the tasks after each
/// change, which is what keeps the contract's status rule at every write.
/// </summary>
public static partial class RunTransitions
{
    /// <summary>The plan activity begins planning the attempt it was given.</summary>
    public static Decision BeginPlanning(RunState run, int attempt) =>
        Stale(run, attempt) ?? (run.Status == RunStatus.Planning ? Decision.Unchanged : Change(run, run with { Status = RunStatus.Planning }));

    /// <summary>
    /// The plan is saved in place of any plan sent back (never of one under way), its tasks pending and its cost added
    /// to the run's; the run waits on the plan when a person reviews it first, and otherwise stays planning until its
    /// first tasks start.
    /// </summary>
    public static Decision SavePlan(RunState run, PlanSave save)
    {
        if (Stale(run, save.Attempt) is { } stale)
        {
            return stale;
        }

        if (run.PlannedRound >= save.Round && run.Tasks.Count > 0)
        {
            // An earlier attempt of the activity saved it and could not report back: planning lands once.
            return Decision.Unchanged;
        }

        if (run.Tasks.Any(t => t.State != TaskState.Pending))
        {
            return Decision.Refused(RefusalKind.Conflict, $"Run {run.RunId} has tasks under way; a plan is replaced only before it runs.");
        }

        var after = run with
        {
            Tasks = save.Plan.Tasks.Select(TaskRecord.FromPlan).ToList(),
            Usage = run.Usage + save.Usage,
            PlannedBy = save.Plan.PlannedBy,
            PlannedRound = save.Round,
            AwaitingPlanReview = save.AwaitReview,
        };
        List<NewLogEntry> events = [RunLog.Planned(save.Plan.Tasks.Count, save.Plan.PlannedBy)];
        if (save.AwaitReview)
        {
            events.Add(RunLog.PlanWaiting(save.Round));
        }

        return Change(run, after, events) with { Notes = save.Notes };
    }

    /// <summary>
    /// The orchestrator starts a batch of ready tasks: human tasks wait for their person, agent tasks run. A task past
    /// pending keeps its state (a redo already running, or a late batch).
    /// </summary>
    public static Decision StartTasks(RunState run, int attempt, IReadOnlyList<string> humans, IReadOnlyList<string> agents, DateTimeOffset now)
    {
        if (Stale(run, attempt) is { } stale)
        {
            return stale;
        }

        if (run.AwaitingPlanReview)
        {
            return Decision.Refused(RefusalKind.Conflict, $"Run {run.RunId} waits for its plan to be reviewed; no task starts before it is approved.");
        }

        var tasks = run.Tasks.Select(t => t.State != TaskState.Pending ? t
            : humans.Contains(t.TaskId) ? Moved(t, TaskState.WaitingHuman, null, now)
            : agents.Contains(t.TaskId) ? Moved(t, TaskState.Running, null, now)
            : t).ToList();
        return tasks.SequenceEqual(run.Tasks) ? Decision.Unchanged : Change(run, run with { Tasks = tasks });
    }

    /// <summary>An agent task records its own start: while its model call is under way, or with its result (<see cref="Decision.Then"/>).</summary>
    public static Decision StartAgent(RunState run, int attempt, string taskId, DateTimeOffset now) => StartTasks(run, attempt, [], [taskId], now);

    /// <summary>
    /// An agent task's result lands: its output and cost are the task's, the cost the run's too, and the task is done
    /// or its draft waits for a person. Refused when the task stopped running meanwhile (cancelled, failed): the output
    /// is dropped.
    /// </summary>
    public static Decision FinishAgent(RunState run, int attempt, string taskId, AgentResult result, DateTimeOffset now)
    {
        if (Stale(run, attempt) is { } stale)
        {
            return stale;
        }

        if (run.Task(taskId) is not { State: TaskState.Running } task)
        {
            return Decision.Refused(RefusalKind.Conflict, $"Task {taskId} is no longer running; its output is dropped.");
        }

        var done = task with
        {
            State = result.AwaitApproval ? TaskState.WaitingHuman : TaskState.Completed,
            Usage = task.Usage + result.Usage,
            CompletedAt = result.AwaitApproval ? null : now,
            WaitingSince = result.AwaitApproval ? now : task.WaitingSince,
        };
        var after = run with { Tasks = Replace(run.Tasks, done), Usage = run.Usage + result.Usage };
        return Change(run, after) with { Outputs = new Dictionary<string, string?> { [taskId] = result.Output } };
    }

    /// <summary>The synthesis begins: the run is running (a retried run whose tasks had all completed goes from planning).</summary>
    public static Decision BeginSynthesis(RunState run, int attempt) =>
        Stale(run, attempt) ?? Unfinished(run) ??
        (run.Status == RunStatus.Running ? Decision.Unchanged : Change(run, run with { Status = RunStatus.Running }));

    /// <summary>The final output is written, its cost added, and the run completed; once per attempt, and only once every task is.</summary>
    public static Decision Complete(RunState run, int attempt, string finalOutput, TokenUsage usage)
    {
        if (run.Status == RunStatus.Completed && run.Attempt == attempt)
        {
            return Decision.Unchanged;
        }

        return Stale(run, attempt) ?? Unfinished(run) ??
               Change(run, run with { Status = RunStatus.Completed, Usage = run.Usage + usage }) with { FinalOutput = finalOutput };
    }

    /// <summary>A run is synthesized only once its plan is approved and every task completed.</summary>
    static Decision? Unfinished(RunState run) =>
        run.AwaitingPlanReview || run.AwaitingBudget || run.Tasks.Any(t => t.State != TaskState.Completed)
            ? Decision.Refused(RefusalKind.Conflict, $"Run {run.RunId} has work still open; its final output waits for every task.")
            : null;

    /// <summary>
    /// The run fails: <paramref name="failedTask"/> (if any) failed with the error, every other open task is cancelled.
    /// Failing a run that has already failed changes nothing; one that ended otherwise refuses.
    /// </summary>
    public static Decision Fail(RunState run, int attempt, string error, string? failedTask, DateTimeOffset now)
    {
        if (run.Status == RunStatus.Failed && run.Attempt == attempt)
        {
            return Decision.Unchanged;
        }

        if (Stale(run, attempt) is { } stale)
        {
            return stale;
        }

        var tasks = run.Tasks.Select(t => t.State.IsTerminal() ? t
            : t.TaskId == failedTask ? Moved(t, TaskState.Failed, error, now)
            : Moved(t, TaskState.Cancelled, null, now)).ToList();
        return Change(run, run with { Status = RunStatus.Failed, Error = error, Tasks = tasks, AwaitingPlanReview = false, AwaitingBudget = false });
    }

    /// <summary>A human task (or a draft) went unanswered for the run's human timeout: the task and the run fail.</summary>
    public static Decision TimeOut(RunState run, int attempt, string taskId, int seconds, DateTimeOffset now) =>
        Fail(run, attempt, RunErrors.HumanTimedOut(taskId, seconds), taskId, now);

    /// <summary>
    /// The run's status after a change, from its tasks: a run with an agent task running runs; one whose plan, budget or
    /// a task waits, with nothing running, waits for a person; one that was running or waiting and has neither is about
    /// to move on, so it runs. An ended run keeps its ending, and a run whose plan is not yet under way stays queued or
    /// planning.
    /// </summary>
    public static RunStatus Settle(RunState run) =>
        run.Status.IsTerminal() ? run.Status
        : run.Tasks.Any(t => t.State == TaskState.Running) ? RunStatus.Running
        : run.WaitingOn.Count > 0 ? RunStatus.WaitingHuman
        : run.Status is RunStatus.Running or RunStatus.WaitingHuman ? RunStatus.Running
        : run.Status;

    /// <summary>The engine's request is dropped when the run has ended or a retry replaced the attempt that asked.</summary>
    static Decision? Stale(RunState run, int attempt) =>
        run.Attempt != attempt ? Decision.Refused(RefusalKind.Superseded, $"Attempt {attempt} of run {run.RunId} was replaced by attempt {run.Attempt}.")
        : run.Status.IsTerminal() ? Decision.Refused(RefusalKind.Superseded, $"Run {run.RunId} is already {run.Status.ToWire()}.")
        : null;

    /// <summary>The change from <paramref name="run"/> to <paramref name="after"/>, its status settled, with the events it logs.</summary>
    static Decision Change(RunState run, RunState after, IEnumerable<NewLogEntry>? first = null)
    {
        var settled = after with { Status = Settle(after) };
        return new Decision { After = settled, Events = (first ?? []).Concat(RunLog.Between(run, settled)).ToList() };
    }

    /// <summary>
    /// A task moved to another state: it starts when it starts running or waiting; an ending is timed, and ends the
    /// tool calls it had under way (they were never made, or their outcome will never be recorded).
    /// </summary>
    static TaskRecord Moved(TaskRecord task, TaskState state, string? error, DateTimeOffset now) => task with
    {
        State = state,
        StartedAt = state is TaskState.Running or TaskState.WaitingHuman ? now : task.StartedAt,
        CompletedAt = state.IsTerminal() ? now : task.CompletedAt,
        WaitingSince = state == TaskState.WaitingHuman ? now : task.WaitingSince,
        Error = error ?? task.Error,
        ToolCalls = state.IsTerminal() && task.ToolCalls.Any(c => !c.IsDone)
            ? task.ToolCalls.Select(c => c.IsDone ? c : c with
            {
                State = ToolCallState.Failed, Error = $"The task ended ({state.ToWire()}) before the call's outcome was recorded.", CompletedAt = now,
            }).ToList()
            : task.ToolCalls,
    };

    static List<TaskRecord> Replace(IReadOnlyList<TaskRecord> tasks, TaskRecord changed) =>
        tasks.Select(t => t.TaskId == changed.TaskId ? changed : t).ToList();
}
