namespace Orchflow.Domain;

/// <summary>Where a run is in its life: queued → planning → running ⇄ waiting_human → a terminal state.</summary>
public enum RunStatus
{
    Queued,
    Planning,
    Running,
    WaitingHuman,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>Where one task of a run's plan is.</summary>
public enum TaskState
{
    Pending,
    Running,
    WaitingHuman,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>Who does a task: a model-backed agent or a person.</summary>
public enum TaskKind
{
    Agent,
    Human,
}

public static class StateExtensions
{
    public static bool IsTerminal(this RunStatus status) =>
        status is RunStatus.Completed or RunStatus.Failed or RunStatus.Cancelled;

    public static bool IsTerminal(this TaskState state) =>
        state is TaskState.Completed or TaskState.Failed or TaskState.Cancelled;

    /// <summary>The wire name of a state, as the API spells it (snake_case).</summary>
    public static string ToWire(this RunStatus status) => WireNames.Of(status);

    public static string ToWire(this TaskState state) => WireNames.Of(state);

    public static string ToWire(this TaskKind kind) => WireNames.Of(kind);

    public static string ToWire(this ToolCallState state) => WireNames.Of(state);
}
