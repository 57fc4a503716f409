using System.Text;
using System.Text.RegularExpressions;
using Orchflow.Abstractions;
using Orchflow.Domain;
using static Orchflow.Models.Simulated.SimulatedText;

namespace Orchflow.Models.Simulated;

/// <summary>
/// The synthesis: the deliverable the goal asked for, assembled from every task's output — the person's answers once,
/// each decision and draft under its task's name, the research still to look up as one table — with no line twice.
/// </summary>
internal static partial class SimulatedSynthesis
{
    /// <summary>Sections of a simulated output that explain how it was made rather than what it concluded.</summary>
    static readonly string[] Working = ["Context from the human", "Built on", "Revised after feedback", "Edits made", "How to look it up"];

    public static string Write(SynthesisRequest request, Func<string, string> withoutFiller)
    {
        var text = new StringBuilder();
        text.AppendLine($"# {Objective(request.Goal)}").AppendLine();
        text.AppendLine($"_{SimulatedRunModel.Notice}_").AppendLine();
        var humans = request.Results.Where(r => r.Kind == TaskKind.Human).ToList();
        var agents = request.Results.Where(r => r.Kind == TaskKind.Agent).Select(r => r with { Output = withoutFiller(r.Output) }).ToList();
        var research = agents.Where(IsResearch).ToList();
        var deliverables = agents.Where(a => !IsResearch(a) && !Superseded(a, agents)).ToList();
        var still = research.Count > 0 ? $", and {Count(research.Count, "research task")} listed as still to look up" : "";
        text.AppendLine($"Assembled from {Count(request.Results.Count, "task")}: {Count(humans.Count, "answer")} from you, " +
                        $"{Count(deliverables.Count, "deliverable")} below{still}.").AppendLine();

        if (humans.Count > 0)
        {
            text.AppendLine("## What you told us");
            foreach (var h in humans)
            {
                text.AppendLine($"- {h.Name}: \"{h.Output.Trim()}\"");
            }

            text.AppendLine();
        }

        foreach (var d in deliverables)
        {
            text.AppendLine($"## {d.Name}").AppendLine(Body(d.Output, Subject(d.Name))).AppendLine();
        }

        if (research.Count > 0)
        {
            text.AppendLine("## Research still to look up").AppendLine(SimulatedResearch.NotLookedUp).AppendLine();
            text.AppendLine("| Task | Look up first |").AppendLine("|---|---|");
            foreach (var r in research)
            {
                text.AppendLine($"| {r.TaskId}: {Cell(r.Name)} | {Cell(SimulatedResearch.FirstStep(r.Output))} |");
            }
        }

        return text.ToString().TrimEnd();
    }

    static bool IsResearch(TaskInput task) => task.Output.Contains(SimulatedResearch.NotLookedUp, StringComparison.Ordinal);

    /// <summary>A draft that a later task edits ("Write a post" before "Edit the post"): the edit is the deliverable.</summary>
    static bool Superseded(TaskInput task, List<TaskInput> agents)
    {
        var thing = Article().Replace(Subject(task.Name), "");
        return agents.SkipWhile(a => a != task).Skip(1)
            .Any(a => SimulatedWriting.IsEdit(a.Name) && Article().Replace(Subject(a.Name), "").Equals(thing, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>What an output concluded, without the sections that say how it was made; an output in another shape, whole.</summary>
    static string Body(string output, string subject)
    {
        var lines = output.Trim().Split('\n').Select(l => l.TrimEnd()).ToList();
        if (!lines.Any(l => l.StartsWith("### ", StringComparison.Ordinal)))
        {
            return string.Join('\n', lines);
        }

        var body = new List<string>();
        var keep = false;
        foreach (var line in lines)
        {
            if (line.StartsWith("### ", StringComparison.Ordinal) || line.StartsWith("## ", StringComparison.Ordinal))
            {
                keep = line.StartsWith("### ", StringComparison.Ordinal) && !Working.Any(w => line[4..].StartsWith(w, StringComparison.Ordinal));
                // A draft's own heading adds nothing under the task's name; the others say whose they are, as each task has one.
                if (keep && line != "### Draft")
                {
                    body.Add($"{line}: {subject}");
                }

                continue;
            }

            if (keep)
            {
                body.Add(line);
            }
        }

        return string.Join('\n', body).Trim();
    }

    static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    [GeneratedRegex(@"^(?:an?|the|our|your)\s+", RegexOptions.IgnoreCase)]
    private static partial Regex Article();
}
