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
    int? HumanTimeoutSeconds);

public sealed record CompleteTaskRequest(string? Output, bool? Approved, string? Feedback);

public sealed record CreateProviderRequest(string? Provider, string? ApiKey, string? Label, string? Model, string? Endpoint);
