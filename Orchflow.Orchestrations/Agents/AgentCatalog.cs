using Orchflow.Domain;
using Orchflow.Prompts;

namespace Orchflow.Agents;

/// <summary>The built-in agent templates, and how a run's requested agents resolve against them.</summary>
public static class AgentCatalog
{
    public static readonly AgentTemplate Research = FromTemplate(
        "research", "Finds and organises the facts a task needs: sources, competitors, market data, examples.");

    public static readonly AgentTemplate Analyst = FromTemplate(
        "analyst", "Turns findings into comparisons, decisions and priorities, with the reasoning shown.");

    public static readonly AgentTemplate Writer = FromTemplate(
        "writer", "Produces the deliverable: plans, drafts, checklists and copy, in the voice the human asked for.");

    public static readonly IReadOnlyList<AgentTemplate> BuiltIn = [Research, Analyst, Writer];

    public static AgentTemplate? Find(string name) =>
        BuiltIn.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The system prompt for an agent of a run: its template's, with the run's instructions taking precedence.</summary>
    public static string SystemPromptFor(AgentSpec agent)
    {
        var template = Find(agent.Name);
        var hasInstructions = !string.IsNullOrWhiteSpace(agent.Instructions);
        if (template is null)
        {
            return hasInstructions
                ? PromptTemplates.Render("Agents.custom.md", new Dictionary<string, string> { ["name"] = agent.Name, ["instructions"] = agent.Instructions! })
                  + "\n\n" + PromptTemplates.Load("Agents.shared-rules.md")
                : throw new ArgumentException($"Agent '{agent.Name}' has no template and no instructions.", nameof(agent));
        }

        return hasInstructions
            ? $"{template.SystemPrompt}\n\nInstructions for this run, which take precedence:\n{agent.Instructions}"
            : template.SystemPrompt;
    }

    static AgentTemplate FromTemplate(string name, string description) =>
        new(name, description, PromptTemplates.Load($"Agents.{name}.md") + "\n\n" + PromptTemplates.Load("Agents.shared-rules.md"));

    /// <summary>The agents a run uses: the ones it asked for, or every built-in when it asked for none.</summary>
    public static IReadOnlyList<AgentSpec> Resolve(IReadOnlyList<AgentSpec>? requested) =>
        requested is { Count: > 0 } ? requested : BuiltIn.Select(t => new AgentSpec(t.Name)).ToList();
}
