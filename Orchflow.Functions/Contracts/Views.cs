using System.Text.Json.Nodes;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Functions.Contracts;

// Response bodies, as the OpenAPI document (OpenApi/openapi.json) names them; the serializer turns them into snake_case.

public sealed record UsageView(long InputTokens, long OutputTokens)
{
    public static UsageView Of(TokenUsage usage) => new(usage.InputTokens, usage.OutputTokens);
}

public sealed record TaskView(
    string TaskId,
    string Name,
    string Description,
    string Kind,
    string? Agent,
    string State,
    IReadOnlyList<string> DependsOn,
    string? Prompt,
    JsonObject? InputSchema,
    JsonObject? Input,
    string? Output,
    string? Error,
    UsageView Usage,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    IReadOnlyList<TaskInputView> Inputs,
    IReadOnlyList<ToolCallView> ToolCalls,
    PendingToolCallView? PendingToolCall)
{
    /// <summary>
    /// A task as its run stands: a human task carries its form and the answer to it, and the outputs it depends on, so a
    /// person sees what they answer or approve.
    /// </summary>
    public static TaskView Of(TaskRecord t, IReadOnlyList<TaskRecord> tasks) => new(
        t.TaskId, t.Name, t.Description, t.Kind.ToWire(), t.Agent, t.State.ToWire(), t.DependsOn, t.Prompt,
        t.InputSchema is null ? null : JsonObjects.Parse(t.InputSchema), t.Input is null ? null : JsonObjects.Parse(t.Input), t.Output, t.Error,
        UsageView.Of(t.Usage), t.StartedAt, t.CompletedAt, TaskInputView.Of(t, tasks), t.ToolCalls.Select(ToolCallView.Of).ToList(),
        t.PendingToolCall is { } pending ? PendingToolCallView.Of(pending) : null);
}

/// <summary>An output a human task depends on, read from its run: completed dependencies only, in depends_on order.</summary>
public sealed record TaskInputView(string TaskId, string Name, string Output)
{
    public static IReadOnlyList<TaskInputView> Of(TaskRecord task, IReadOnlyList<TaskRecord> tasks) =>
        task.Kind != TaskKind.Human
            ? []
            : task.DependsOn
                .Select(id => tasks.FirstOrDefault(t => t.TaskId == id))
                .Where(d => d is { State: TaskState.Completed, Output: not null })
                .Select(d => new TaskInputView(d!.TaskId, d.Name, d.Output!))
                .ToList();
}

/// <summary>One tool call of a task, as recorded: what was asked, where it stands, and what came of it.</summary>
public sealed record ToolCallView(
    string CallId,
    string Tool,
    JsonObject Arguments,
    string State,
    string? Result,
    string? Error,
    string? Feedback,
    DateTimeOffset StartedAt,
    DateTimeOffset? CompletedAt)
{
    public static ToolCallView Of(ToolCall c) =>
        new(c.CallId, c.Tool, JsonObjects.Parse(c.Arguments), c.State.ToWire(), c.Result, c.Error, c.Feedback, c.StartedAt, c.CompletedAt);
}

/// <summary>The call a task waits on a person for: what would be made, and the schema an edit of its arguments must keep.</summary>
public sealed record PendingToolCallView(string CallId, string Tool, JsonObject Arguments, JsonObject InputSchema)
{
    public static PendingToolCallView Of(ToolCall c) => new(c.CallId, c.Tool, JsonObjects.Parse(c.Arguments), JsonObjects.Parse(c.InputSchema));
}

/// <summary>Recorded JSON objects as a response carries them; text that is not an object (it cannot be recorded as one) reads as empty.</summary>
static class JsonObjects
{
    public static JsonObject Parse(string? json)
    {
        try
        {
            return json is not null && JsonNode.Parse(json) is JsonObject value ? value : [];
        }
        catch (System.Text.Json.JsonException)
        {
            return [];
        }
    }
}

public sealed record AgentView(string Name, string? Instructions, IReadOnlyList<string> Tools);

/// <summary>What the whole run may spend, as asked and raised since; a limit that is null does not bound it.</summary>
public sealed record BudgetView(long? MaxTokens, int? MaxToolCalls);

public sealed record RunView(
    string RunId,
    string Status,
    string Task,
    IReadOnlyList<AgentView> Agents,
    IReadOnlyList<JsonNode> AskMeAbout,
    IReadOnlyList<string> HumanGates,
    bool RequireApproval,
    bool RequirePlanApproval,
    string? ProviderId,
    int? HumanTimeoutSeconds,
    IReadOnlyList<string> Tools,
    IReadOnlyList<string> ApproveTools,
    int MaxToolCalls,
    BudgetView Budget,
    IReadOnlyDictionary<string, TaskView> Subtasks,
    IReadOnlyList<string> WaitingOn,
    string? FinalOutput,
    UsageView Usage,
    string? Error,
    string? PlannedBy,
    IReadOnlyList<RunEventView> Events,
    int Attempt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static RunView Of(RunRecord r) => new(
        r.RunId, r.Status.ToWire(), r.Definition.Goal,
        r.Definition.Agents.Select(a => new AgentView(a.Name, a.Instructions, a.Tools ?? [])).ToList(),
        Http.AskMeAboutEntries.View(r.Definition), r.Definition.HumanGates, r.Definition.RequireApproval, r.Definition.RequirePlanApproval, r.Definition.ProviderId,
        r.Definition.HumanTimeoutSeconds, r.Definition.Tools ?? [], r.Definition.ApproveTools ?? [], r.Definition.MaxToolCalls,
        new BudgetView(r.Budget.MaxTokens, r.Budget.MaxToolCalls),
        // Insertion order is T1, T2, …: the serializer keeps it.
        r.Tasks.ToDictionary(t => t.TaskId, t => TaskView.Of(t, r.Tasks)),
        r.WaitingOn, r.FinalOutput, UsageView.Of(r.Usage), r.Error, r.PlannedBy,
        r.Events.Select(e => new RunEventView(e.At, e.Kind, e.Message)).ToList(), r.Attempt, r.CreatedAt, r.UpdatedAt);
}

public sealed record RunEventView(DateTimeOffset At, string Kind, string Message);

public sealed record RunSummaryView(
    string RunId,
    string Status,
    string Task,
    string? Error,
    UsageView Usage,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static RunSummaryView Of(RunRecord r) =>
        new(r.RunId, r.Status.ToWire(), r.Definition.Goal, r.Error, UsageView.Of(r.Usage), r.CreatedAt, r.UpdatedAt);
}

public sealed record RunListView(IReadOnlyList<RunSummaryView> Runs, int Limit, int Offset, int Total);

public sealed record TaskListView(string RunId, IReadOnlyList<TaskView> Tasks);

public sealed record RegisteredView(string AccountId, string Name, string Email, string ApiKey, int TrialRunsRemaining, DateTimeOffset CreatedAt);

/// <summary>GET /account: the caller's account as it stands, with the trial runs it has left; never its key.</summary>
public sealed record AccountView(string AccountId, string Name, string Email, int TrialRunsRemaining, DateTimeOffset CreatedAt)
{
    public static AccountView Of(Account a) => new(a.AccountId, a.Name, a.Email, a.TrialRunsRemaining, a.CreatedAt);
}

public sealed record ProviderView(string ProviderId, string Provider, string Label, string Model, string? Endpoint, string KeyHint, DateTimeOffset CreatedAt)
{
    public static ProviderView Of(ProviderRecord p) => new(p.ProviderId, p.Provider, p.Label, p.Model, p.Endpoint, p.KeyHint, p.CreatedAt);
}

public sealed record ProviderListView(IReadOnlyList<ProviderView> Providers);

public sealed record AgentTemplateView(string Name, string Description, string SystemPrompt);

public sealed record AgentTemplateListView(IReadOnlyList<AgentTemplateView> Agents);

/// <summary>GET /health when healthy: the version, and each part checked (<c>storage</c>, <c>durable_backend</c>) with "ok".</summary>
public sealed record HealthView(string Status, string Version, IReadOnlyDictionary<string, string> Checks);

/// <summary>GET /health's 503: problem details naming, in <c>checks</c>, the part that is "unreachable".</summary>
public sealed record UnavailableProblem(string Type, string Title, int Status, string Detail, string Code, IReadOnlyDictionary<string, string> Checks);

public sealed record RunLogEntryView(long Sequence, string Type, DateTimeOffset CreatedAt, string? TaskId, System.Text.Json.Nodes.JsonObject Data)
{
    public static RunLogEntryView Of(RunLogEntry e) => new(e.Sequence, e.Type, e.CreatedAt, e.TaskId, e.Data);
}

public sealed record RunLogPageView(string RunId, IReadOnlyList<RunLogEntryView> Events, long NextAfter);
