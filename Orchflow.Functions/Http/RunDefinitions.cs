using System.Text.RegularExpressions;
using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Functions;

namespace Orchflow.Functions.Http;

/// <summary>A run as a client asks for it in <c>POST /runs</c>, read into its definition with every problem named at once.</summary>
public static partial class RunDefinitions
{
    /// <summary>Tool names one list of a run may hold.</summary>
    public const int MaxToolNames = 20;

    /// <summary>The run as asked for, its tools checked against those the account has.</summary>
    public static async Task<(RunDefinition? Definition, Validation Validation)> ReadAsync(
        StartRunRequest body, IToolbox toolbox, string accountId, CancellationToken cancellationToken)
    {
        var (definition, v) = Read(body);
        var named = ToolNames(body).ToList();
        if (named.Count > 0)
        {
            var unknown = (await toolbox.FindAsync(accountId, named.Select(n => n.Name).Where(n => n != RunDefinition.AllTools).Distinct().ToList(),
                cancellationToken)).Unknown.ToHashSet(StringComparer.Ordinal);
            foreach (var (field, name) in named.Where(n => unknown.Contains(n.Name)))
            {
                v.Add(field, $"'{name}' is not a tool this account has: name {BuiltInTools.FetchUrl}, or a registered tool server's tool as <server_id>/<tool>.");
            }
        }

        return (v.IsValid ? definition : null, v);
    }

    /// <summary>Every well-formed tool name the body gives, with the field it is given in.</summary>
    static IEnumerable<(string Field, string Name)> ToolNames(StartRunRequest body) =>
        Named("tools", body.Tools)
            .Concat((body.Agents ?? []).SelectMany((a, i) => Named($"agents[{i}].tools", a?.Tools)))
            .Concat(Named("approve_tools", body.ApproveTools));

    static IEnumerable<(string Field, string Name)> Named(string field, IReadOnlyList<string?>? names) =>
        (names ?? []).Select((n, i) => (Field: $"{field}[{i}]", Name: n?.Trim() ?? "")).Where(n => n.Name.Length is > 0 and <= MaxToolNameLength);

    const int MaxToolNameLength = 200;

    public static (RunDefinition? Definition, Validation Validation) Read(StartRunRequest body)
    {
        var v = new Validation();
        var goal = v.Text("task", body.Task, RunsFunctions.MaxTaskLength, required: true);

        var agents = new List<AgentSpec>();
        if (body.Agents is { Count: > RunsFunctions.MaxAgents })
        {
            v.Add("agents", $"At most {RunsFunctions.MaxAgents} agents may be given.");
        }

        foreach (var (agent, i) in (body.Agents ?? []).Select((a, i) => (a, i)))
        {
            var field = $"agents[{i}]";
            if (agent is null)
            {
                v.Add(field, $"'{field}' must be an object with a name.");
                continue;
            }

            var name = v.Text(field + ".name", agent.Name, 64, required: true);
            var instructions = v.Text(field + ".instructions", agent.Instructions, 4000, required: false);
            if (name is null || name.Length == 0)
            {
                continue;
            }

            if (!AgentName().IsMatch(name))
            {
                v.Add(field + ".name", "An agent name is lower-case letters, digits, '-' or '_', starting with a letter.");
            }
            else if (AgentCatalog.Find(name) is null && string.IsNullOrEmpty(instructions))
            {
                v.Add(field + ".name", $"'{name}' is not a built-in agent ({string.Join(", ", AgentCatalog.BuiltIn.Select(t => t.Name))}); give it instructions to define it.");
            }
            else if (agents.Any(a => a.Name == name))
            {
                v.Add(field + ".name", $"Agent '{name}' is listed twice.");
            }
            else
            {
                agents.Add(new AgentSpec(name, string.IsNullOrEmpty(instructions) ? null : instructions, Tools(v, field + ".tools", agent.Tools)));
            }
        }

        var tools = Tools(v, "tools", body.Tools);
        var approveTools = Tools(v, "approve_tools", body.ApproveTools);
        var offered = (tools ?? []).Concat(agents.SelectMany(a => a.Tools ?? [])).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, i) in (approveTools ?? []).Select((n, i) => (n, i)).Where(n => n.n != RunDefinition.AllTools && !offered.Contains(n.n)))
        {
            v.Add($"approve_tools[{i}]", $"'{name}' is not among the tools this run offers (in 'tools' or an agent's 'tools').");
        }

        if (body.MaxToolCalls is < 1 or > ToolLimits.MaxCallsPerTask)
        {
            v.Add("max_tool_calls", $"'max_tool_calls' must be from 1 to {ToolLimits.MaxCallsPerTask}.");
        }

        var asked = AskMeAboutEntries.Read(v, body.AskMeAbout);
        var budget = body.Budget is null ? null : Budgets.Read(v, "budget", body.Budget);
        var gates = Texts(v, "human_gates", body.HumanGates, 100);

        string? providerId = null;
        if (body.ProviderId is not null)
        {
            providerId = body.ProviderId.Trim();
            if (providerId.Length == 0)
            {
                v.Add("provider_id", "'provider_id' must not be empty; leave it out to use the managed trial.");
            }
            else
            {
                v.Text("provider_id", body.ProviderId, 64, required: true);
            }
        }

        if (body.HumanTimeoutSeconds is < 1 or > RunsFunctions.MaxTimeoutSeconds)
        {
            v.Add("human_timeout_seconds", $"'human_timeout_seconds' must be from 1 to {RunsFunctions.MaxTimeoutSeconds} (30 days).");
        }

        if (!v.IsValid)
        {
            return (null, v);
        }

        var definition = new RunDefinition(goal!, AgentCatalog.Resolve(agents), asked.Select(f => f.Topic).ToList(), gates, body.RequireApproval ?? false,
            providerId, body.HumanTimeoutSeconds, RequirePlanApproval: body.RequirePlanApproval ?? false, Tools: tools, ApproveTools: approveTools,
            MaxToolCalls: body.MaxToolCalls ?? ToolLimits.DefaultCallsPerTask, AskFields: asked.Count == 0 ? null : asked,
            Budget: budget);
        if (body.Plan is { } given)
        {
            // Checked against the run as asked for: its agents, and the ask_me_about topics the plan must ask.
            var tasks = GivenPlans.Read(given, v, definition);
            return tasks is null ? (null, v) : (definition with { Plan = tasks }, v);
        }

        return (definition, v);
    }

    static List<string> Texts(Validation v, string field, IReadOnlyList<string?>? items, int maxLength)
    {
        var texts = new List<string>();
        if (items is { Count: > RunsFunctions.MaxTopics })
        {
            v.Add(field, $"At most {RunsFunctions.MaxTopics} items may be given in '{field}'.");
            return texts;
        }

        foreach (var (item, i) in (items ?? []).Select((x, i) => (x, i)))
        {
            var text = v.Text($"{field}[{i}]", item, maxLength, required: true);
            if (text is { Length: > 0 } && !texts.Contains(text, StringComparer.OrdinalIgnoreCase))
            {
                texts.Add(text);
            }
        }

        return texts;
    }

    /// <summary>A list of tool names: at most <see cref="MaxToolNames"/>, each named once; null when none is given.</summary>
    static IReadOnlyList<string>? Tools(Validation v, string field, IReadOnlyList<string?>? names)
    {
        if (names is null)
        {
            return null;
        }

        if (names.Count > MaxToolNames)
        {
            v.Add(field, $"At most {MaxToolNames} tools may be named in '{field}'.");
            return null;
        }

        var tools = new List<string>();
        foreach (var (name, i) in names.Select((n, i) => (n, i)))
        {
            if (v.Text($"{field}[{i}]", name, MaxToolNameLength, required: true) is { Length: > 0 } tool && !tools.Contains(tool, StringComparer.Ordinal))
            {
                tools.Add(tool);
            }
        }

        return tools;
    }

    [GeneratedRegex("^[a-z][a-z0-9_-]*$")]
    private static partial Regex AgentName();
}
