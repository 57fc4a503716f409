using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchflow.Client;

// The API's bodies, field for field as the OpenAPI document describes them (snake_case on the wire, PascalCase here).
// Status words stay strings, so a value a newer server adds never breaks an older client: compare with RunStatus,
// TaskState and the other constants below.

/// <summary>A new account and its API key, shown this once.</summary>
public sealed record Account(string AccountId, string Name, string Email, string ApiKey, int TrialRunsRemaining, DateTimeOffset CreatedAt);

/// <summary>The caller's account, without its key.</summary>
public sealed record AccountView(string AccountId, string Name, string Email, int TrialRunsRemaining, DateTimeOffset CreatedAt);

/// <summary>Tokens a run or a task used.</summary>
public sealed record Usage(long InputTokens, long OutputTokens);

/// <summary>An agent a run may use: a built-in one by name, or one defined by <see cref="Instructions"/>.</summary>
public sealed record AgentChoice(string Name)
{
    /// <summary>Replaces the built-in agent's instructions, or defines an agent of your own.</summary>
    public string? Instructions { get; init; }

    /// <summary>Tools this agent's tasks are offered besides the run's own.</summary>
    public IReadOnlyList<string>? Tools { get; init; }
}

/// <summary>One task of a plan you give or edit.</summary>
public sealed record PlanTask(string TaskId, string Name, string Kind)
{
    /// <summary>What the task is for.</summary>
    public string? Description { get; init; }

    /// <summary>Required for an agent task: one of the run's agents.</summary>
    public string? Agent { get; init; }

    /// <summary>Tasks that must be completed first.</summary>
    public IReadOnlyList<string>? DependsOn { get; init; }

    /// <summary>Required for a human task: what the person is asked.</summary>
    public string? Prompt { get; init; }
}

/// <summary>A task graph, the same shape the planner produces.</summary>
public sealed record Plan(IReadOnlyList<PlanTask> Tasks);

/// <summary>The body of <c>POST /runs</c>: a goal, and every option left out unless set.</summary>
public sealed record StartRunRequest(string Task)
{
    /// <summary>The agents the plan may use; all built-in templates when left out.</summary>
    public IReadOnlyList<AgentChoice>? Agents { get; init; }

    /// <summary>Facts a person supplies: the plan starts with a human task (T1) asking for them.</summary>
    public IReadOnlyList<string>? AskMeAbout { get; init; }

    /// <summary>A planned task whose name or description mentions one of these goes to a person.</summary>
    public IReadOnlyList<string>? HumanGates { get; init; }

    /// <summary>Every agent task's draft waits for a person before its dependants start.</summary>
    public bool? RequireApproval { get; init; }

    /// <summary>After planning, the run waits until a person reviews the plan.</summary>
    public bool? RequirePlanApproval { get; init; }

    /// <summary>Run on this account's own provider instead of the managed model.</summary>
    public string? ProviderId { get; init; }

    /// <summary>A human task unanswered this long fails the run.</summary>
    public int? HumanTimeoutSeconds { get; init; }

    /// <summary>Run this plan as given, with no planning call.</summary>
    public Plan? Plan { get; init; }

    /// <summary>Tools every agent task of the run is offered.</summary>
    public IReadOnlyList<string>? Tools { get; init; }

    /// <summary>Tools whose every call waits for a person; <c>["*"]</c> for all.</summary>
    public IReadOnlyList<string>? ApproveTools { get; init; }

    /// <summary>Tool calls one agent task may make (1..50, 10 when left out).</summary>
    public int? MaxToolCalls { get; init; }
}

/// <summary>A person's answer to a task: build it with <see cref="Answer"/>, <see cref="Approve"/> or <see cref="Reject"/>.</summary>
public sealed record CompleteTaskRequest
{
    /// <summary>The answer, or the edited draft.</summary>
    public string? Output { get; init; }

    /// <summary>True approves the draft or the tool call; false sends it back with <see cref="Feedback"/>.</summary>
    public bool? Approved { get; init; }

    /// <summary>What the agent should change.</summary>
    public string? Feedback { get; init; }

    /// <summary>A tool call's arguments as edited, with <see cref="Approved"/> true.</summary>
    public JsonObject? Arguments { get; init; }

    /// <summary>A human task's answer, or an edited draft that is approved as edited.</summary>
    public static CompleteTaskRequest Answer(string output) => new() { Output = output };

    /// <summary>Approve a draft as it is, or let a tool call through as asked.</summary>
    public static CompleteTaskRequest Approve() => new() { Approved = true };

    /// <summary>Send a draft back to its agent, or refuse a tool call, saying why.</summary>
    public static CompleteTaskRequest Reject(string feedback) => new() { Approved = false, Feedback = feedback };
}

/// <summary>A verdict on the plan a run waits on.</summary>
public sealed record ReviewPlanRequest(bool Approved)
{
    /// <summary>The plan as you edited it, with <see cref="Approved"/> true.</summary>
    public Plan? Plan { get; init; }

    /// <summary>What the planner should change, with <see cref="Approved"/> false.</summary>
    public string? Feedback { get; init; }
}

/// <summary>An agent a run uses, as the run holds it.</summary>
public sealed record RunAgent(string Name, string? Instructions, IReadOnlyList<string> Tools);

/// <summary>A note on how a run was planned.</summary>
public sealed record PlanningNote(DateTimeOffset At, string Kind, string Message);

/// <summary>An output a human task depends on, shown beside its question.</summary>
public sealed record TaskInput(string TaskId, string Name, string Output);

/// <summary>A tool call an agent asked for.</summary>
public sealed record ToolCall(string CallId, string Tool, JsonObject Arguments, string State, string? Result, string? Error,
    string? Feedback, DateTimeOffset StartedAt, DateTimeOffset? CompletedAt);

/// <summary>The tool call a task waits on a person for.</summary>
public sealed record PendingToolCall(string CallId, string Tool, JsonObject Arguments, JsonObject InputSchema);

/// <summary>One task of a run's plan.</summary>
public sealed record RunTask(string TaskId, string Name, string Description, string Kind, string? Agent, string State,
    IReadOnlyList<string> DependsOn, string? Prompt, string? Output, string? Error, Usage Usage, DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt, IReadOnlyList<TaskInput> Inputs, IReadOnlyList<ToolCall> ToolCalls, PendingToolCall? PendingToolCall);

/// <summary>A run: its goal and options, its plan's tasks by id, what it waits on, and its result.</summary>
public sealed record Run(string RunId, string Status, string Task, IReadOnlyList<RunAgent> Agents, IReadOnlyList<string> AskMeAbout,
    IReadOnlyList<string> HumanGates, bool RequireApproval, bool RequirePlanApproval, string? ProviderId, int? HumanTimeoutSeconds,
    IReadOnlyDictionary<string, RunTask> Subtasks, IReadOnlyList<string> WaitingOn, string? FinalOutput, Usage Usage, string? Error,
    string? PlannedBy, IReadOnlyList<PlanningNote> Events, int Attempt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    IReadOnlyList<string> Tools, IReadOnlyList<string> ApproveTools, int MaxToolCalls)
{
    /// <summary>Whether the run has ended: completed, failed or cancelled.</summary>
    public bool HasEnded => RunStatus.Ended.Contains(Status);
}

/// <summary>A run as listed.</summary>
public sealed record RunSummary(string RunId, string Status, string Task, string? Error, Usage Usage, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A page of runs, newest first.</summary>
public sealed record RunList(IReadOnlyList<RunSummary> Runs, int Limit, int Offset, int Total);

/// <summary>A run's tasks in order.</summary>
public sealed record TaskList(string RunId, IReadOnlyList<RunTask> Tasks);

/// <summary>One entry of a run's event log. <see cref="Data"/> holds what the type carries (see the API reference).</summary>
public sealed record RunEvent(long Sequence, string Type, DateTimeOffset CreatedAt, string? TaskId, JsonObject Data)
{
    /// <summary>Whether this event ends the run: after it the server closes the stream.</summary>
    public bool EndsTheRun => Type is "run.completed" or "run.failed" or "run.cancelled";
}

/// <summary>A page of a run's event log.</summary>
public sealed record RunEventPage(string RunId, IReadOnlyList<RunEvent> Events, long NextAfter);

/// <summary>A provider registered with its own key (never returned).</summary>
public sealed record Provider(string ProviderId, [property: System.Text.Json.Serialization.JsonPropertyName("provider")] string ProviderKind, string Label, string Model, string? Endpoint, string KeyHint, DateTimeOffset CreatedAt);

/// <summary>A new API key of the account, shown this once.</summary>
public sealed record CreatedKey(string KeyId, string ApiKey, string Label, DateTimeOffset CreatedAt);

/// <summary>One of the account's API keys: its hint, never the key.</summary>
public sealed record ApiKey(string KeyId, string Label, string KeyHint, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

/// <summary>The body of <c>POST /providers</c>.</summary>
public sealed record CreateProviderRequest(string Provider, string ApiKey, string Model)
{
    /// <summary>A name to tell providers apart.</summary>
    public string? Label { get; init; }

    /// <summary>Required for <c>azure_openai</c> and <c>openai_compatible</c>.</summary>
    public string? Endpoint { get; init; }
}

/// <summary>A built-in agent.</summary>
public sealed record AgentTemplate(string Name, string Description, string SystemPrompt);

/// <summary>What <c>GET /health</c> reports.</summary>
public sealed record Health(string Status, string Version, IReadOnlyDictionary<string, string> Checks);

/// <summary>The body of <c>POST /webhooks</c>.</summary>
public sealed record CreateWebhookRequest(string Url)
{
    /// <summary>Event types to deliver; the run's ending and waiting events when left out.</summary>
    public IReadOnlyList<string>? Events { get; init; }

    /// <summary>What the endpoint is for.</summary>
    public string? Description { get; init; }
}

/// <summary>A webhook endpoint, without its secret.</summary>
public sealed record Webhook(string WebhookId, string Url, IReadOnlyList<string> Events, string? Description, DateTimeOffset CreatedAt,
    bool Enabled, string? DisabledReason);

/// <summary>A webhook endpoint just registered, with its signing secret, shown this once.</summary>
public sealed record WebhookWithSecret(string WebhookId, string Url, IReadOnlyList<string> Events, string? Description, DateTimeOffset CreatedAt,
    string Secret, bool Enabled);

/// <summary>A webhook's new secret; the previous one keeps signing until <see cref="PreviousSecretExpiresAt"/>.</summary>
public sealed record WebhookRotatedSecret(string WebhookId, string Secret, DateTimeOffset PreviousSecretExpiresAt);

/// <summary>One delivery of an event to a webhook endpoint.</summary>
public sealed record WebhookDelivery(string DeliveryId, string EventType, string RunId, long Sequence, int Attempts, string Status,
    int? LastStatusCode, string? LastError, DateTimeOffset? NextAttemptAt, DateTimeOffset CreatedAt);

/// <summary>The body of <c>POST /tool-servers</c>; header values are stored as secrets.</summary>
public sealed record CreateToolServerRequest(string Url)
{
    /// <summary>A name to tell servers apart.</summary>
    public string? Label { get; init; }

    /// <summary>Headers to send it, such as <c>Authorization</c>.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
}

/// <summary>A tool a tool server offers.</summary>
public sealed record ToolServerTool(string Name, string Description, JsonObject InputSchema);

/// <summary>An MCP server registered as a source of tools.</summary>
public sealed record ToolServer(string ServerId, string Url, string Label, IReadOnlyList<string> HeaderNames, IReadOnlyList<ToolServerTool> Tools,
    bool ToolsTruncated, DateTimeOffset CreatedAt, DateTimeOffset RefreshedAt);

/// <summary>Run statuses, and which of them end a run.</summary>
public static class RunStatus
{
    /// <summary>Accepted, not yet planning.</summary>
    public const string Queued = "queued";
    /// <summary>The plan is being made.</summary>
    public const string Planning = "planning";
    /// <summary>Agent tasks are running.</summary>
    public const string Running = "running";
    /// <summary>Nothing runs; a task (or the plan) waits for a person.</summary>
    public const string WaitingHuman = "waiting_human";
    /// <summary>Done, with a final output.</summary>
    public const string Completed = "completed";
    /// <summary>Ended with an error.</summary>
    public const string Failed = "failed";
    /// <summary>Cancelled.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The statuses a run never leaves (but for a retry of a failed or cancelled one).</summary>
    public static readonly IReadOnlySet<string> Ended = new HashSet<string> { Completed, Failed, Cancelled };
}

/// <summary>Task states.</summary>
public static class TaskState
{
    /// <summary>Not started.</summary>
    public const string Pending = "pending";
    /// <summary>An agent works on it.</summary>
    public const string Running = "running";
    /// <summary>A person is asked: an answer, a draft's approval, or a tool call's.</summary>
    public const string WaitingHuman = "waiting_human";
    /// <summary>Done.</summary>
    public const string Completed = "completed";
    /// <summary>Ended with an error.</summary>
    public const string Failed = "failed";
    /// <summary>Cancelled with its run.</summary>
    public const string Cancelled = "cancelled";
}

/// <summary>The JSON conventions of the API: snake_case names, absent rather than null optional fields.</summary>
public static class OrchflowJson
{
    /// <summary>The options every body is read and written with.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
}
