using Orchflow.Domain;

namespace Orchflow.Abstractions;

/// <summary>What the engine asks of a language model: a plan, one task's output, the synthesis.</summary>
public interface IRunModel
{
    /// <summary>Names the model in a run's record (which model planned it), never a key.</summary>
    string Name { get; }

    /// <summary>The plan as the model wrote it: JSON in the shape of <c>PlanJson</c>, parsed and validated by the planner.</summary>
    Task<ModelReply<string>> PlanAsync(PlanningRequest request, CancellationToken cancellationToken);

    Task<ModelReply<string>> RunTaskAsync(AgentTaskRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// One turn of an agent task's tool loop: given the tools it is offered and the calls made so far with their
    /// outcomes, the model's next words: calls to make, or the task's output. Offered no tools (its calls spent), it is
    /// asked for the output.
    /// </summary>
    Task<ModelReply<AgentTurn>> TurnAsync(AgentTaskRequest request, IReadOnlyList<ToolDefinition> tools, IReadOnlyList<ToolCall> calls,
        CancellationToken cancellationToken);

    Task<ModelReply<string>> SynthesizeAsync(SynthesisRequest request, CancellationToken cancellationToken);
}

/// <summary>Picks the model a run executes on: the account's own provider, or the managed one.</summary>
public interface IRunModelFactory
{
    Task<IRunModel> ForRunAsync(string accountId, string? providerId, CancellationToken cancellationToken);
}

public sealed record ModelReply<T>(T Value, TokenUsage Usage);

/// <summary>What a model said in one turn of a tool loop: the calls it asks for, or, with none, the task's output.</summary>
public sealed record AgentTurn(string? Output, IReadOnlyList<ModelToolCall> Calls)
{
    public static AgentTurn Finished(string output) => new(output, []);
}

/// <summary>A call a model asked for: its own id for it, the tool as Orchflow names it, and the arguments as it wrote them.</summary>
public sealed record ModelToolCall(string ModelCallId, string Tool, string Arguments);

/// <summary>What the planner asks for; on a second attempt, with the first answer and what was wrong with it.</summary>
public sealed record PlanningRequest(RunDefinition Definition, IReadOnlyList<AgentSpec> Agents, PlanRepair? Repair = null, PlanFeedback? Review = null);

/// <summary>A person sent the last plan back: that plan, and what they asked to change.</summary>
public sealed record PlanFeedback(string PreviousPlan, string Feedback);

public sealed record PlanRepair(string PreviousAnswer, IReadOnlyList<string> Errors);

/// <summary>
/// Everything one agent task sees: the goal, its own instructions and the outputs it builds on; and where its text goes
/// as it is written (<see cref="Output"/>), for clients watching the run live.
/// </summary>
public sealed record AgentTaskRequest(
    string Goal,
    PlannedTask Task,
    AgentSpec Agent,
    string SystemPrompt,
    IReadOnlyList<TaskInput> Inputs,
    Revision? Revision = null)
{
    public ITextSink? Output { get; init; }
}

/// <summary>A human sent a draft back: the draft and what to change.</summary>
public sealed record Revision(string PreviousDraft, string Feedback, int Round);

/// <summary>An output a task builds on: a dependency's result or a human's answer.</summary>
public sealed record TaskInput(string TaskId, string Name, TaskKind Kind, string Output);

public sealed record SynthesisRequest(string Goal, IReadOnlyList<TaskInput> Results)
{
    /// <summary>Where the final output goes as it is written, for clients watching the run live.</summary>
    public ITextSink? Output { get; init; }
}
