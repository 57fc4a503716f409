using System.Text.Json.Nodes;

namespace Orchflow.Domain;

/// <summary>
/// One entry of a run's event log: a change of the run or of one of its tasks, numbered from 1 without gaps. The log,
/// the live stream and webhooks all carry this one object. It says what changed, never the outputs themselves.
/// </summary>
public sealed record RunLogEntry(long Sequence, string Type, DateTimeOffset CreatedAt, string? TaskId, JsonObject Data)
{
    public bool IsTerminal => Type is EventTypes.RunCompleted or EventTypes.RunFailed or EventTypes.RunCancelled;
}

/// <summary>An event about to be logged: its sequence and time are given when it is written.</summary>
public sealed record NewLogEntry(string Type, string? TaskId, JsonObject Data);

/// <summary>The event types of the run log.</summary>
public static class EventTypes
{
    public const string RunQueued = "run.queued";
    public const string RunPlanning = "run.planning";
    public const string RunPlanned = "run.planned";
    public const string RunRunning = "run.running";
    public const string RunWaitingHuman = "run.waiting_human";
    public const string RunCompleted = "run.completed";
    public const string RunFailed = "run.failed";
    public const string RunCancelled = "run.cancelled";
    public const string TaskStarted = "task.started";
    public const string TaskWaitingHuman = "task.waiting_human";
    public const string TaskCompleted = "task.completed";
    public const string TaskFailed = "task.failed";
    public const string TaskCancelled = "task.cancelled";
    public const string TaskRevisionRequested = "task.revision_requested";
    public const string RunRetried = "run.retried";
    public const string PlanWaitingReview = "plan.waiting_review";
    public const string PlanReviewed = "plan.reviewed";
    public const string RunBudgetReached = "run.budget_reached";
    public const string RunBudgetRaised = "run.budget_raised";
    public const string TaskPaused = "task.paused";
    public const string ToolCallStarted = "task.tool_call.started";
    public const string ToolCallWaitingHuman = "task.tool_call.waiting_human";
    public const string ToolCallCompleted = "task.tool_call.completed";
    public const string ToolCallFailed = "task.tool_call.failed";
    public const string ToolCallRejected = "task.tool_call.rejected";

    public static readonly IReadOnlyList<string> All =
    [
        RunQueued, RunPlanning, RunPlanned, RunRunning, RunWaitingHuman, RunCompleted, RunFailed, RunCancelled, RunRetried,
        PlanWaitingReview, PlanReviewed, RunBudgetReached, RunBudgetRaised, TaskPaused,
        TaskStarted, TaskWaitingHuman, TaskCompleted, TaskFailed, TaskCancelled, TaskRevisionRequested,
        ToolCallStarted, ToolCallWaitingHuman, ToolCallCompleted, ToolCallFailed, ToolCallRejected,
    ];
}

/// <summary>Where a run stood just after one of its events: its status and what it waits on.</summary>
public sealed record RunStanding(RunStatus Status, IReadOnlyList<string> WaitingOn);

/// <summary>Derives the events that announce a change: one per task whose state changed, then one if the run's status did.</summary>
public static class RunLog
{
    /// <summary>What <c>waiting_on</c> names while a run's plan awaits review.</summary>
    public const string PlanWaitingKey = "plan";

    /// <summary>What <c>waiting_on</c> names while a run waits for its budget to be raised.</summary>
    public const string BudgetWaitingKey = "budget";

    const string ToolCallPrefix = "task.tool_call.";

    public static List<NewLogEntry> Between(RunState before, RunState after)
    {
        var entries = new List<NewLogEntry>();
        var previous = before.Tasks.ToDictionary(t => t.TaskId);
        foreach (var task in after.Tasks)
        {
            if (!previous.TryGetValue(task.TaskId, out var was))
            {
                continue;
            }

            entries.AddRange(ForCalls(was, task));
            if (was.State != task.State && ForTask(task, was) is { } entry)
            {
                entries.Add(entry);
            }
        }

        if (before.Status != after.Status)
        {
            entries.Add(ForRun(after));
        }

        return entries;
    }

    static NewLogEntry? ForTask(TaskRecord task, TaskRecord was) => task.State switch
    {
        // Back from a person's answer to a tool call: the task's loop goes on, it is not redone.
        TaskState.Running when was is { State: TaskState.WaitingHuman, PendingToolCall: not null } =>
            new(EventTypes.TaskStarted, task.TaskId, new JsonObject { ["agent"] = task.Agent, ["resumed"] = true }),
        TaskState.Running when was.State == TaskState.WaitingHuman =>
            new(EventTypes.TaskRevisionRequested, task.TaskId, new JsonObject { ["feedback"] = task.Feedback }),
        TaskState.Running => new(EventTypes.TaskStarted, task.TaskId, new JsonObject { ["agent"] = task.Agent }),
        TaskState.WaitingHuman => new(EventTypes.TaskWaitingHuman, task.TaskId, task switch
        {
            { PendingToolCall: { } call } => new JsonObject { ["pending_tool_call"] = new JsonObject { ["call_id"] = call.CallId, ["tool"] = call.Tool } },
            { Kind: TaskKind.Human, InputSchema: { } schema } => new JsonObject { ["prompt"] = task.Prompt, ["input_schema"] = JsonNode.Parse(schema) },
            { Kind: TaskKind.Human } => new JsonObject { ["prompt"] = task.Prompt },
            _ => new JsonObject { ["draft_available"] = true },
        }),
        TaskState.Pending when was.State == TaskState.Running =>
            new(EventTypes.TaskPaused, task.TaskId, new JsonObject { ["reason"] = BudgetWaitingKey }),
        TaskState.Completed => new(EventTypes.TaskCompleted, task.TaskId, []),
        TaskState.Failed => new(EventTypes.TaskFailed, task.TaskId, new JsonObject { ["error"] = task.Error }),
        TaskState.Cancelled => new(EventTypes.TaskCancelled, task.TaskId, []),
        // Back to pending from anything but running happens only within the engine: not a change a client sees.
        _ => null,
    };

    /// <summary>One event for each of the task's tool calls that was asked for or changed state.</summary>
    static IEnumerable<NewLogEntry> ForCalls(TaskRecord was, TaskRecord task)
    {
        if (ReferenceEquals(was.ToolCalls, task.ToolCalls))
        {
            yield break;
        }

        var before = was.ToolCalls.ToDictionary(c => c.CallId, c => c.State);
        foreach (var call in task.ToolCalls)
        {
            var known = before.TryGetValue(call.CallId, out var state);
            if (known && state == call.State)
            {
                continue;
            }

            var data = new JsonObject { ["call_id"] = call.CallId, ["tool"] = call.Tool };
            var type = call.State switch
            {
                ToolCallState.Running => EventTypes.ToolCallStarted,
                ToolCallState.WaitingHuman => EventTypes.ToolCallWaitingHuman,
                ToolCallState.Completed => EventTypes.ToolCallCompleted,
                ToolCallState.Failed => EventTypes.ToolCallFailed,
                _ => EventTypes.ToolCallRejected,
            };
            if (call.State == ToolCallState.Running && known)
            {
                data["approved"] = true;
            }

            yield return new NewLogEntry(type, task.TaskId, data);
        }
    }

    static NewLogEntry ForRun(RunState run) => run.Status switch
    {
        RunStatus.Queued => new(EventTypes.RunQueued, null, []),
        RunStatus.Planning => new(EventTypes.RunPlanning, null, []),
        RunStatus.Running => new(EventTypes.RunRunning, null, []),
        RunStatus.WaitingHuman => new(EventTypes.RunWaitingHuman, null, new JsonObject
        {
            ["waiting_on"] = new JsonArray(run.WaitingOn.Select(id => (JsonNode)id).ToArray()),
        }),
        RunStatus.Completed => new(EventTypes.RunCompleted, null, []),
        RunStatus.Failed => new(EventTypes.RunFailed, null, new JsonObject { ["error"] = run.Error }),
        RunStatus.Cancelled => new(EventTypes.RunCancelled, null, []),
        _ => throw new ArgumentOutOfRangeException(nameof(run), run.Status, "Unknown run status."),
    };

    /// <summary>
    /// Replays a run's log from its first event up to <paramref name="sequence"/>: the status and the waiting tasks
    /// (as <c>GET /runs/{id}</c> would have shown them then), for a notification sent later about that event.
    /// </summary>
    public static RunStanding StandingAt(IEnumerable<RunLogEntry> log, long sequence)
    {
        var status = RunStatus.Queued;
        var waiting = new SortedSet<string>(TaskIds.Order);
        var planWaits = false;
        var budgetWaits = false;
        foreach (var entry in log.Where(e => e.Sequence <= sequence).OrderBy(e => e.Sequence))
        {
            planWaits = entry.Type switch
            {
                EventTypes.PlanWaitingReview => true,
                EventTypes.PlanReviewed or EventTypes.RunCompleted or EventTypes.RunFailed or EventTypes.RunCancelled => false,
                _ => planWaits,
            };
            budgetWaits = entry.Type switch
            {
                EventTypes.RunBudgetReached => true,
                EventTypes.RunBudgetRaised => entry.Data["waiting"]?.GetValue<bool>() ?? false,
                EventTypes.RunCompleted or EventTypes.RunFailed or EventTypes.RunCancelled => false,
                _ => budgetWaits,
            };
            if (entry.Type == EventTypes.RunRetried)
            {
                // A retry takes every unfinished task back to pending: none of them waits any more.
                waiting.Clear();
            }

            status = entry.Type switch
            {
                EventTypes.RunQueued => RunStatus.Queued,
                EventTypes.RunPlanning => RunStatus.Planning,
                EventTypes.RunRunning => RunStatus.Running,
                EventTypes.RunWaitingHuman => RunStatus.WaitingHuman,
                EventTypes.RunCompleted => RunStatus.Completed,
                EventTypes.RunFailed => RunStatus.Failed,
                EventTypes.RunCancelled => RunStatus.Cancelled,
                _ => status,
            };
            // A tool call's events say nothing of its task's own state.
            if (entry.TaskId is { } taskId && !entry.Type.StartsWith(ToolCallPrefix, StringComparison.Ordinal))
            {
                // Every other task event moves the task out of waiting_human, or was logged while it was not there.
                if (entry.Type == EventTypes.TaskWaitingHuman)
                {
                    waiting.Add(taskId);
                }
                else
                {
                    waiting.Remove(taskId);
                }
            }
        }

        return new RunStanding(status,
            (planWaits ? [PlanWaitingKey] : Enumerable.Empty<string>()).Concat(budgetWaits ? [BudgetWaitingKey] : []).Concat(waiting).ToList());
    }

    /// <summary>A call was not made: the run has used what its budget allows.</summary>
    public static NewLogEntry BudgetReached(RunState run) => new(EventTypes.RunBudgetReached, null, new JsonObject
    {
        ["max_tokens"] = run.Budget.MaxTokens,
        ["max_tool_calls"] = run.Budget.MaxToolCalls,
        ["used_tokens"] = run.Usage.InputTokens + run.Usage.OutputTokens,
        ["used_tool_calls"] = run.ToolCallsMade,
    });

    /// <summary>A person raised the budget; <paramref name="waiting"/>: what the run has used still reaches it.</summary>
    public static NewLogEntry BudgetRaised(RunBudget budget, bool waiting) => new(EventTypes.RunBudgetRaised, null, new JsonObject
    {
        ["max_tokens"] = budget.MaxTokens,
        ["max_tool_calls"] = budget.MaxToolCalls,
        ["waiting"] = waiting,
    });

    public static NewLogEntry Planned(int taskCount, string plannedBy) =>
        new(EventTypes.RunPlanned, null, new JsonObject { ["task_count"] = taskCount, ["planned_by"] = plannedBy });

    public static NewLogEntry PlanWaiting(int round) => new(EventTypes.PlanWaitingReview, null, new JsonObject { ["round"] = round });

    /// <summary>A person's verdict on the plan: approved as planned, approved as they edited it, or sent back with feedback.</summary>
    public static NewLogEntry PlanReviewed(bool approved, bool edited, string? feedback) =>
        new(EventTypes.PlanReviewed, null, new JsonObject { ["approved"] = approved, ["edited"] = edited, ["feedback"] = feedback });

    /// <summary>A failed or cancelled run taken up again: which attempt this is, and which tasks run again.</summary>
    public static NewLogEntry Retried(int attempt, IEnumerable<string> resetTasks) =>
        new(EventTypes.RunRetried, null, new JsonObject
        {
            ["attempt"] = attempt,
            ["tasks"] = new JsonArray(resetTasks.Select(id => (JsonNode)id).ToArray()),
        });
}
