using System.Text.RegularExpressions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Functions;

namespace Orchflow.Functions.Http;

/// <summary>A run as a client asks for it in <c>POST /runs</c>, read into its definition with every problem named at once.</summary>
public static partial class RunDefinitions
{
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
                agents.Add(new AgentSpec(name, string.IsNullOrEmpty(instructions) ? null : instructions));
            }
        }

        var topics = Texts(v, "ask_me_about", body.AskMeAbout, 200);
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

        var definition = new RunDefinition(goal!, AgentCatalog.Resolve(agents), topics, gates, body.RequireApproval ?? false, providerId,
            body.HumanTimeoutSeconds, RequirePlanApproval: body.RequirePlanApproval ?? false);
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

    [GeneratedRegex("^[a-z][a-z0-9_-]*$")]
    private static partial Regex AgentName();
}
