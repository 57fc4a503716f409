namespace Orchflow.Domain;

/// <summary>An agent a run may use: a built-in template by name, optionally with instructions that override it.</summary>
public sealed record AgentSpec(string Name, string? Instructions = null);

/// <summary>
/// What a client asked a run to do: the goal and the human checkpoints around it, and the plan itself when the client
/// wrote it (then no model plans the run).
/// </summary>
public sealed record RunDefinition(
    string Goal,
    IReadOnlyList<AgentSpec> Agents,
    IReadOnlyList<string> AskMeAbout,
    IReadOnlyList<string> HumanGates,
    bool RequireApproval,
    string? ProviderId,
    int? HumanTimeoutSeconds,
    IReadOnlyList<PlannedTask>? Plan = null,
    bool RequirePlanApproval = false);
