using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Planning;

namespace Orchflow.Models;

/// <summary>
/// A deterministic, offline stand-in for a language model. It plans with the deterministic planner and writes
/// outputs assembled from the task, the human's answers and the outputs it depends on, so every run can be
/// exercised end to end without a provider. Every text it writes says that it is simulated.
/// </summary>
public sealed partial class SimulatedRunModel(IOptions<SimulatedModelOptions> options, TimeProvider clock) : IRunModel
{
    public const string Notice = "Simulated output: written by Orchflow's built-in offline model, not by a language model.";

    public async Task<ModelReply<RunPlan>> PlanAsync(PlanningRequest request, CancellationToken cancellationToken)
    {
        await DelayAsync(cancellationToken);
        var plan = DeterministicPlanner.Plan(request.Definition, request.Agents);
        var described = string.Join("\n", plan.Tasks.Select(t => $"{t.TaskId} {t.Name}"));
        return new ModelReply<RunPlan>(plan with { PlannedBy = "simulated" }, Usage(request.Definition.Goal, described));
    }

    public async Task<ModelReply<string>> RunTaskAsync(AgentTaskRequest request, CancellationToken cancellationToken)
    {
        await DelayAsync(cancellationToken);
        var text = new StringBuilder();
        text.AppendLine($"## {request.Task.Name}").AppendLine();
        text.AppendLine($"_{Notice}_").AppendLine();
        text.AppendLine($"Agent: {request.Agent.Name}. Goal: {request.Goal.Trim()}").AppendLine();

        var humans = request.Inputs.Where(i => i.Kind == TaskKind.Human).ToList();
        var upstream = request.Inputs.Where(i => i.Kind == TaskKind.Agent).ToList();
        if (humans.Count > 0)
        {
            text.AppendLine("### Context from the human");
            foreach (var h in humans)
            {
                text.AppendLine($"- {h.TaskId} ({h.Name}): \"{h.Output.Trim()}\"");
            }

            text.AppendLine();
        }

        if (upstream.Count > 0)
        {
            text.AppendLine("### Built on");
            foreach (var u in upstream)
            {
                text.AppendLine($"- {u.TaskId} ({u.Name}): {Gist(Conclusion(u.Output))}");
            }

            text.AppendLine();
        }

        var subject = Subject(request.Task.Name);
        var voice = humans.Count > 0 ? $" in line with \"{Gist(humans[0].Output)}\"" : "";
        switch (request.Agent.Name.ToLowerInvariant())
        {
            case "research":
                text.AppendLine("### Findings");
                for (var i = 1; i <= 5; i++)
                {
                    text.AppendLine($"{i}. {Capitalise(subject)}: candidate {i}, noted for {Facet(i)} (unverified: simulated).");
                }

                text.AppendLine().AppendLine("### Open questions").AppendLine($"- Which of these matter most for: {request.Goal.Trim()}");
                break;
            case "analyst":
                text.AppendLine("### Comparison").AppendLine("| option | strength | risk | confidence |").AppendLine("|---|---|---|---|");
                for (var i = 1; i <= 3; i++)
                {
                    text.AppendLine($"| {Capitalise(subject)} option {i} | {Facet(i)} | {Facet(i + 2)} | {(i == 1 ? "high" : "medium")} |");
                }

                text.AppendLine().AppendLine("### Decision")
                    .AppendLine($"Prefer option 1 for {subject}{voice}; revisit if the inputs above change.");
                break;
            default:
                text.AppendLine("### Draft");
                text.AppendLine($"1. Frame {subject}{voice}.");
                text.AppendLine($"2. Turn the inputs above ({string.Join(", ", request.Inputs.Select(i => i.TaskId).DefaultIfEmpty("none"))}) into concrete actions.");
                text.AppendLine("3. Set owners, dates and a measure of success for each action.");
                text.AppendLine().AppendLine("### Next steps").AppendLine($"- Review this draft of {subject} and adjust it to real data.");
                break;
        }

        var output = text.ToString().TrimEnd();
        return new ModelReply<string>(output, Usage(request.SystemPrompt + request.Goal + string.Concat(request.Inputs.Select(i => i.Output)), output));
    }

    public async Task<ModelReply<string>> SynthesizeAsync(SynthesisRequest request, CancellationToken cancellationToken)
    {
        await DelayAsync(cancellationToken);
        var text = new StringBuilder();
        text.AppendLine($"# {request.Goal.Trim()}").AppendLine();
        text.AppendLine($"_{Notice}_").AppendLine();
        var humans = request.Results.Where(r => r.Kind == TaskKind.Human).ToList();
        if (humans.Count > 0)
        {
            text.AppendLine("## What you told us");
            foreach (var h in humans)
            {
                text.AppendLine($"- {h.Name}: \"{h.Output.Trim()}\"");
            }

            text.AppendLine();
        }

        text.AppendLine("## Results");
        foreach (var r in request.Results.Where(r => r.Kind == TaskKind.Agent))
        {
            text.AppendLine($"### {r.TaskId}. {r.Name}").AppendLine(Gist(Conclusion(r.Output))).AppendLine();
        }

        var last = request.Results.LastOrDefault(r => r.Kind == TaskKind.Agent);
        if (last is not null)
        {
            text.AppendLine("## Deliverable").AppendLine(last.Output.Trim());
        }

        var output = text.ToString().TrimEnd();
        return new ModelReply<string>(output, Usage(string.Concat(request.Results.Select(r => r.Output)), output));
    }

    Task DelayAsync(CancellationToken cancellationToken) =>
        options.Value.LatencyMs > 0
            ? Task.Delay(TimeSpan.FromMilliseconds(options.Value.LatencyMs), clock, cancellationToken)
            : Task.CompletedTask;

    /// <summary>The simulated model reports words as tokens.</summary>
    static TokenUsage Usage(string input, string output) => new(Words(input), Words(output));

    static long Words(string text) => Word().Count(text);

    /// <summary>The first meaningful line of a text, shortened: what a reader needs to see it was used.</summary>
    /// <summary>
    /// What an output concluded: the text under its last section heading (a decision, next steps), else the whole
    /// output. Outputs that are not Markdown, such as a human's edit, are taken whole.
    /// </summary>
    static string Conclusion(string output)
    {
        var lines = output.Split('\n');
        var lastHeading = Array.FindLastIndex(lines, l => l.StartsWith("### ", StringComparison.Ordinal));
        return lastHeading >= 0 && lastHeading < lines.Length - 1 ? string.Join('\n', lines[(lastHeading + 1)..]) : output;
    }

    static string Gist(string text)
    {
        var line = text.Split('\n').Select(l => l.Trim().TrimStart('#', '-', '*', '_', ' ').Trim())
            .FirstOrDefault(l => l.Length > 0 && !l.StartsWith("Simulated output", StringComparison.Ordinal)) ?? "";
        // A long line without spaces (a URL, a key) is cut mid-word.
        return line.Length <= 160 ? line : line[..(line.LastIndexOf(' ', 157) is > 0 and var space ? space : 157)] + "…";
    }

    static string Subject(string taskName)
    {
        var words = taskName.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Length > 1 ? string.Join(' ', words.Skip(1)).TrimEnd('.') : taskName;
    }

    static string Facet(int i) => (i % 5) switch
    {
        0 => "pricing",
        1 => "audience fit",
        2 => "consistency",
        3 => "distribution",
        _ => "differentiation",
    };

    static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    [GeneratedRegex(@"\S+")]
    private static partial Regex Word();
}
