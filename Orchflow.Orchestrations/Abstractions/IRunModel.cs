using Orchflow.Domain;

namespace Orchflow.Abstractions;

/// <summary>What the engine asks of a language model: a plan, one task's output, the synthesis.</summary>
public interface IRunModel
{
    Task<ModelReply<RunPlan>> PlanAsync(PlanningRequest request, CancellationToken cancellationToken);

    Task<ModelReply<string>> RunTaskAsync(AgentTaskRequest request, CancellationToken cancellationToken);

    Task<ModelReply<string>> SynthesizeAsync(SynthesisRequest request, CancellationToken cancellationToken);
}

/// <summary>Picks the model a run executes on: the account's own provider, or the managed one.</summary>
public interface IRunModelFactory
{
    Task<IRunModel> ForRunAsync(string accountId, string? providerId, CancellationToken cancellationToken);
}

public sealed record ModelReply<T>(T Value, TokenUsage Usage);

public sealed record PlanningRequest(RunDefinition Definition, IReadOnlyList<AgentSpec> Agents);

/// <summary>Everything one agent task sees: the goal, its own instructions and the outputs it builds on.</summary>
public sealed record AgentTaskRequest(
    string Goal,
    PlannedTask Task,
    AgentSpec Agent,
    string SystemPrompt,
    IReadOnlyList<TaskInput> Inputs,
    Revision? Revision = null);

/// <summary>A human sent a draft back: the draft and what to change.</summary>
public sealed record Revision(string PreviousDraft, string Feedback, int Round);

/// <summary>An output a task builds on: a dependency's result or a human's answer.</summary>
public sealed record TaskInput(string TaskId, string Name, TaskKind Kind, string Output);

public sealed record SynthesisRequest(string Goal, IReadOnlyList<TaskInput> Results);
