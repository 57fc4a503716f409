namespace Orchflow.Functions.Contracts;

// Request bodies as clients send them. Every field is nullable so that a missing field is reported as such
// (422 with the field's name) instead of failing deserialization.

public sealed record RegisterRequest(string? Name, string? Email);

public sealed record AgentRequest(string? Name, string? Instructions, IReadOnlyList<string?>? Tools = null);

public sealed record StartRunRequest(
    string? Task,
    IReadOnlyList<AgentRequest?>? Agents,
    IReadOnlyList<System.Text.Json.Nodes.JsonNode?>? AskMeAbout,
    IReadOnlyList<string?>? HumanGates,
    bool? RequireApproval,
    string? ProviderId,
    int? HumanTimeoutSeconds,
    PlanRequest? Plan = null,
    bool? RequirePlanApproval = null,
    IReadOnlyList<string?>? Tools = null,
    IReadOnlyList<string?>? ApproveTools = null,
    int? MaxToolCalls = null,
    BudgetRequest? Budget = null);

/// <summary>What a whole run may spend: a run's budget when it starts, or the limits a person raises it to.</summary>
public sealed record BudgetRequest(long? MaxTokens, int? MaxToolCalls);

/// <summary>A task graph a client writes: the same shape the planner produces.</summary>
public sealed record PlanRequest(IReadOnlyList<PlanTaskRequest?>? Tasks);

public sealed record PlanTaskRequest(
    string? TaskId, string? Name, string? Description, Orchflow.Domain.TaskKind? Kind, string? Agent, IReadOnlyList<string?>? DependsOn, string? Prompt,
    System.Text.Json.Nodes.JsonNode? InputSchema = null);

/// <summary>A verdict on the plan a run waits on: approve (as planned or edited) or send back with feedback.</summary>
public sealed record ReviewPlanRequest(bool? Approved, PlanRequest? Plan, string? Feedback);

/// <summary>
/// An answer to a task: <c>input</c> fills a human task's form; for a tool call it waits on, <c>arguments</c> edits the
/// call before it is made.
/// </summary>
public sealed record CompleteTaskRequest(
    string? Output, bool? Approved, string? Feedback, System.Text.Json.Nodes.JsonObject? Arguments = null, System.Text.Json.Nodes.JsonNode? Input = null);

public sealed record CreateProviderRequest(string? Provider, string? ApiKey, string? Label, string? Model, string? Endpoint);
