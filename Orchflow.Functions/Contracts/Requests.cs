namespace Orchflow.Functions.Contracts;

// Request bodies as clients send them. Every field is nullable so that a missing field is reported as such
// (422 with the field's name) instead of failing deserialization.

public sealed record RegisterRequest(string? Name, string? Email);

public sealed record AgentRequest(string? Name, string? Instructions);

public sealed record StartRunRequest(
    string? Task,
    IReadOnlyList<AgentRequest?>? Agents,
    IReadOnlyList<string?>? AskMeAbout,
    IReadOnlyList<string?>? HumanGates,
    bool? RequireApproval,
    string? ProviderId,
    int? HumanTimeoutSeconds,
    PlanRequest? Plan = null,
    bool? RequirePlanApproval = null);

/// <summary>A task graph a client writes: the same shape the planner produces.</summary>
public sealed record PlanRequest(IReadOnlyList<PlanTaskRequest?>? Tasks);

public sealed record PlanTaskRequest(
    string? TaskId, string? Name, string? Description, Orchflow.Domain.TaskKind? Kind, string? Agent, IReadOnlyList<string?>? DependsOn, string? Prompt);

/// <summary>A verdict on the plan a run waits on: approve (as planned or edited) or send back with feedback.</summary>
public sealed record ReviewPlanRequest(bool? Approved, PlanRequest? Plan, string? Feedback);

public sealed record CompleteTaskRequest(string? Output, bool? Approved, string? Feedback);

public sealed record CreateProviderRequest(string? Provider, string? ApiKey, string? Label, string? Model, string? Endpoint);
