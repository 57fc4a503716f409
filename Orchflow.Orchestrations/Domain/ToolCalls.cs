namespace Orchflow.Domain;

/// <summary>
/// One call an agent task asked a tool to make, as recorded: asked by the model in a step of the task's loop, then
/// made (its result recorded before the model sees it), refused by a person, or waiting for one.
/// </summary>
public sealed record ToolCall
{
    public required string CallId { get; init; }

    /// <summary>The model turn of the task's loop that asked for it (1, 2, …).</summary>
    public required int Step { get; init; }

    /// <summary>The model's own id for the call, given back with its result.</summary>
    public required string ModelCallId { get; init; }

    public required string Tool { get; init; }

    /// <summary>The call's arguments, a JSON object as text (as asked, or as a person edited them).</summary>
    public required string Arguments { get; init; }

    public required ToolCallState State { get; init; }

    /// <summary>Its tool is one whose every call waits for a person before it is made.</summary>
    public bool NeedsApproval { get; init; }

    /// <summary>A person approved it (as asked, or with edited arguments).</summary>
    public bool Approved { get; init; }

    /// <summary>
    /// An approved call is being made. Should the worker stop before its result is recorded, its outcome is unknown and
    /// it is not made again: a call a person approved happens at most once.
    /// </summary>
    public bool Dispatched { get; init; }

    /// <summary>What the tool answered, as the model is given it; kept apart from the run's state, like outputs.</summary>
    public string? Result { get; init; }

    public string? Error { get; init; }

    /// <summary>Why a person refused it; the model is told.</summary>
    public string? Feedback { get; init; }

    /// <summary>The JSON schema of the tool's arguments, which a person's edit of them is checked against.</summary>
    public string? InputSchema { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    public bool IsDone => State is ToolCallState.Completed or ToolCallState.Failed or ToolCallState.Rejected;
}

/// <summary>Where one tool call is.</summary>
public enum ToolCallState
{
    Running,
    WaitingHuman,
    Completed,
    Failed,
    Rejected,
}
