namespace Orchflow.Domain;

/// <summary>
/// What a change of a run is decided on: its status, its tasks' states, its usage, where its plan review stands and
/// which attempt runs it. Texts (task outputs, the final output) are not part of it: a decision that writes one says
/// so in <see cref="Decision.Outputs"/>, and none reads one.
/// </summary>
public sealed record RunState
{
    public required string RunId { get; init; }
    public required string AccountId { get; init; }
    public required RunStatus Status { get; init; }

    /// <summary>The plan's tasks, ordered T1, T2, …, with their outputs left out; empty until the run is planned.</summary>
    public IReadOnlyList<TaskRecord> Tasks { get; init; } = [];

    public TokenUsage Usage { get; init; } = TokenUsage.Zero;
    public string? Error { get; init; }
    public string? PlannedBy { get; init; }

    /// <summary>How many times the run was retried; names the orchestration that runs it now.</summary>
    public int Attempt { get; init; }

    /// <summary>The run was asked to have its plan reviewed by a person before any task starts.</summary>
    public bool RequirePlanApproval { get; init; }

    /// <summary>The run waits for a person to approve, edit or send back its plan.</summary>
    public bool AwaitingPlanReview { get; init; }

    /// <summary>How many times a person sent the plan back; names the event the next review is raised on.</summary>
    public int PlanRound { get; init; }

    /// <summary>The review round whose plan is saved (-1 before any plan is).</summary>
    public int PlannedRound { get; init; } = -1;

    /// <summary>A person approved the plan.</summary>
    public bool PlanApproved { get; init; }

    /// <summary>What the run may spend; raised by a person while it runs.</summary>
    public RunBudget Budget { get; init; } = RunBudget.None;

    /// <summary>A call the run had no budget left for was not made: the run waits for a person to raise its budget.</summary>
    public bool AwaitingBudget { get; init; }

    /// <summary>How many times the budget was raised while the run waited on it; names the event the next raise is announced on.</summary>
    public int BudgetRound { get; init; }

    /// <summary>Tool calls the run's tasks have made or are making (refused ones are not made).</summary>
    public int ToolCallsMade => RunBudget.CallsMade(Tasks);

    public TaskRecord? Task(string taskId) => Tasks.FirstOrDefault(t => t.TaskId == taskId);

    /// <summary>What the run waits on: "plan" while its plan is reviewed, "budget" while its budget is spent, then the tasks waiting for a person.</summary>
    public IReadOnlyList<string> WaitingOn =>
        (AwaitingPlanReview ? [RunLog.PlanWaitingKey] : Enumerable.Empty<string>())
        .Concat(AwaitingBudget ? [RunLog.BudgetWaitingKey] : [])
        .Concat(Tasks.Where(t => t.State == TaskState.WaitingHuman).Select(t => t.TaskId)).ToList();

    /// <summary>
    /// The status rule of the contract: a live run is <c>waiting_human</c> exactly when no agent task is running and its
    /// plan, its budget or at least one task waits for a person. Null when the state keeps it; else what is wrong.
    /// </summary>
    public string? StatusRuleViolation()
    {
        if (Status.IsTerminal())
        {
            return null;
        }

        var running = Tasks.Where(t => t.State == TaskState.Running).Select(t => t.TaskId).ToList();
        var waits = running.Count == 0 && WaitingOn.Count > 0;
        return (Status == RunStatus.WaitingHuman) == waits
            ? null
            : $"run {RunId} is {Status.ToWire()} while running [{string.Join(", ", running)}] and waiting on [{string.Join(", ", WaitingOn)}]";
    }
}
