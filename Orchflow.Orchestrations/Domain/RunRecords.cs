namespace Orchflow.Domain;

/// <summary>A run as the projection holds it: what GET /runs/{id} serves.</summary>
public sealed record RunRecord
{
    public required string RunId { get; init; }
    public required string AccountId { get; init; }
    public required RunStatus Status { get; init; }
    public required RunDefinition Definition { get; init; }
    public string? FinalOutput { get; init; }
    public string? Error { get; init; }
    public TokenUsage Usage { get; init; } = TokenUsage.Zero;
    public string? PlannedBy { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The tasks of the plan, ordered T1, T2, …; empty until the run is planned.</summary>
    public IReadOnlyList<TaskRecord> Tasks { get; init; } = [];

    /// <summary>Noteworthy events of the run, oldest first.</summary>
    public IReadOnlyList<RunEvent> Events { get; init; } = [];

    /// <summary>How many times the run was written: changes whenever anything read here does, so it tags the read.</summary>
    public long Version { get; init; }

    /// <summary>The sequence of the run's last logged event (0 before the first).</summary>
    public long Sequence { get; init; }

    /// <summary>The run waits for a person to approve, edit or send back its plan before any task starts.</summary>
    public bool AwaitingPlanReview { get; init; }

    /// <summary>How many times a person sent the plan back; names the event the next review is raised on.</summary>
    public int PlanRound { get; init; }

    /// <summary>The review round whose plan is saved (-1 before any plan is).</summary>
    public int PlannedRound { get; init; } = -1;

    /// <summary>A person approved the plan (only asked for with <see cref="RunDefinition.RequirePlanApproval"/>).</summary>
    public bool PlanApproved { get; init; }

    /// <summary>How many times the run was retried; names the orchestration that runs it now.</summary>
    public int Attempt { get; init; }

    /// <summary>What the run may spend, as asked and raised since.</summary>
    public RunBudget Budget { get; init; } = RunBudget.None;

    /// <summary>The run waits for a person to raise its budget.</summary>
    public bool AwaitingBudget { get; init; }

    /// <summary>A run just asked for: queued, nothing planned yet.</summary>
    public static RunRecord Queued(string runId, string accountId, RunDefinition definition, DateTimeOffset now) => new()
    {
        RunId = runId,
        AccountId = accountId,
        Status = RunStatus.Queued,
        Definition = definition,
        Budget = definition.Budget ?? RunBudget.None,
        CreatedAt = now,
        UpdatedAt = now,
    };

    /// <summary>What the run waits on: "plan" while its plan is reviewed, "budget" while its budget is spent, and the tasks waiting for a person.</summary>
    public IReadOnlyList<string> WaitingOn =>
        (AwaitingPlanReview ? [RunLog.PlanWaitingKey] : Enumerable.Empty<string>())
        .Concat(AwaitingBudget ? [RunLog.BudgetWaitingKey] : [])
        .Concat(Tasks.Where(t => t.State == TaskState.WaitingHuman).Select(t => t.TaskId)).ToList();
}

/// <summary>One task of a run as the projection holds it.</summary>
public sealed record TaskRecord
{
    public required string TaskId { get; init; }
    public required string Name { get; init; }
    public string Description { get; init; } = "";
    public required TaskKind Kind { get; init; }
    public string? Agent { get; init; }
    public required TaskState State { get; init; }
    public IReadOnlyList<string> DependsOn { get; init; } = [];
    public string? Prompt { get; init; }

    /// <summary>The JSON schema of the form a person answers a human task with (<see cref="InputSchemas"/>); null: free text.</summary>
    public string? InputSchema { get; init; }

    /// <summary>The form's answer, a JSON object, once a person sent one; its text for the agents is the task's output.</summary>
    public string? Input { get; init; }

    public string? Output { get; init; }
    public string? Error { get; init; }
    public TokenUsage Usage { get; init; } = TokenUsage.Zero;
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>When the task last started waiting on a human (its question asked, or its draft up for review).</summary>
    public DateTimeOffset? WaitingSince { get; init; }

    /// <summary>How many times a human sent this task's draft back; names the event its next review waits on.</summary>
    public int ReviewRound { get; init; }

    /// <summary>What the human asked to change when they last sent the draft back.</summary>
    public string? Feedback { get; init; }

    /// <summary>The tool calls the task's agent asked for, in the order asked.</summary>
    public IReadOnlyList<ToolCall> ToolCalls { get; init; } = [];

    /// <summary>The call that waits for a person's approval, while one does.</summary>
    public ToolCall? PendingToolCall => ToolCalls.FirstOrDefault(c => c.State == ToolCallState.WaitingHuman);

    public static TaskRecord FromPlan(PlannedTask task) => new()
    {
        TaskId = task.TaskId,
        Name = task.Name,
        Description = task.Description,
        Kind = task.Kind,
        Agent = task.Agent,
        State = TaskState.Pending,
        DependsOn = task.DependsOn,
        Prompt = task.Prompt,
        InputSchema = task.InputSchema,
    };
}

/// <summary>The order of task ids: T1, T2, … T10 (numeric, not lexical).</summary>
public static class TaskIds
{
    public static string Of(int number) => $"T{number}";

    public static int Number(string taskId) =>
        taskId.Length > 1 && taskId[0] == 'T' && int.TryParse(taskId.AsSpan(1), out var n) ? n : int.MaxValue;

    public static readonly IComparer<string> Order =
        Comparer<string>.Create((a, b) => Number(a) != Number(b) ? Number(a).CompareTo(Number(b)) : string.CompareOrdinal(a, b));
}
