namespace Orchflow.Domain;

/// <summary>
/// An agent a run may use: a built-in template by name, optionally with instructions that override it, and the tools
/// its tasks are offered besides the run's own.
/// </summary>
public sealed record AgentSpec(string Name, string? Instructions = null, IReadOnlyList<string>? Tools = null);

/// <summary>
/// What a client asked a run to do: the goal and the human checkpoints around it, the plan itself when the client
/// wrote it (then no model plans the run), and the tools its agent tasks may call: <paramref name="Tools"/> for every
/// task, those whose every call waits for a person (<paramref name="ApproveTools"/>, or "*" for all), and how many
/// calls one task may make; and what the whole run may spend (<paramref name="Budget"/>), as first asked.
/// <paramref name="AskFields"/> are the form fields the <paramref name="AskMeAbout"/> topics
/// become, in the same order (null for runs started before forms: each topic is then a plain string field).
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
    bool RequirePlanApproval = false,
    IReadOnlyList<string>? Tools = null,
    IReadOnlyList<string>? ApproveTools = null,
    int MaxToolCalls = 10,
    IReadOnlyList<AskField>? AskFields = null,
    RunBudget? Budget = null)
{
    /// <summary>Every call of any tool waits for a person.</summary>
    public const string AllTools = "*";

    /// <summary>The tools a task of <paramref name="agent"/> is offered: the run's, then the agent's own.</summary>
    public IReadOnlyList<string> ToolsFor(string? agent) =>
        (Tools ?? []).Concat(Agents.FirstOrDefault(a => a.Name.Equals(agent, StringComparison.OrdinalIgnoreCase))?.Tools ?? [])
        .Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Whether a call of <paramref name="tool"/> waits for a person before it is made.</summary>
    public bool Approves(string tool) => ApproveTools is { } listed && (listed.Contains(AllTools) || listed.Contains(tool));
}
