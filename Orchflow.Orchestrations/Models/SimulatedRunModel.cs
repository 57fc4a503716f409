using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Planning;
using Orchflow.Telemetry;

namespace Orchflow.Models;

/// <summary>
/// A deterministic, offline stand-in for a language model. It plans with the deterministic planner and writes
/// outputs assembled from the task, the human's answers and the outputs it depends on, so every run can be
/// exercised end to end without a provider. A draft sent back is revised with the reviewer's points, and outputs
/// can be padded to a set size for load tests. Every text it writes says that it is simulated.
/// </summary>
public sealed partial class SimulatedRunModel(IOptions<SimulatedModelOptions> options, TimeProvider clock) : IRunModel
{
    public const string Notice = "Simulated output: written by Orchflow's built-in offline model, not by a language model.";

    /// <summary>Heads the padding added for <see cref="SimulatedModelOptions.OutputChars"/>; everything after it is filler.</summary>
    public const string FillerHeading = "### Simulated filler";

    /// <summary>The most review points a revision lists one by one; the feedback is always quoted whole.</summary>
    const int MaxReviewPoints = 10;

    public string Name => "simulated";

    public Task<ModelReply<string>> PlanAsync(PlanningRequest request, CancellationToken cancellationToken) =>
        SimulateAsync(ModelCall.Operations.Plan, () => Plan(request), cancellationToken);

    public Task<ModelReply<string>> RunTaskAsync(AgentTaskRequest request, CancellationToken cancellationToken) =>
        SimulateAsync(ModelCall.Operations.Task, () => RunTask(request), cancellationToken, request.Output);

    public Task<ModelReply<string>> SynthesizeAsync(SynthesisRequest request, CancellationToken cancellationToken) =>
        SimulateAsync(ModelCall.Operations.Synthesis, () => Synthesize(request), cancellationToken, request.Output);

    /// <summary>
    /// One simulated call: the configured latency, then the text, timed and counted like a provider's call; with
    /// somewhere for the text to go, written there word by word over the latency instead.
    /// </summary>
    async Task<ModelReply<string>> SimulateAsync(string operation, Func<ModelReply<string>> write, CancellationToken cancellationToken, ITextSink? output = null)
    {
        using var call = ModelCall.Start(Name, Name, operation);
        var reply = output is null ? null : write();
        await (reply is null ? DelayAsync(cancellationToken) : StreamAsync(reply.Value, output!, cancellationToken));
        reply ??= write();
        call.Succeeded(reply.Usage.InputTokens, reply.Usage.OutputTokens);
        return reply;
    }

    static ModelReply<string> Plan(PlanningRequest request)
    {
        // Sent back with feedback: the feedback becomes one more step of the goal, so the new plan visibly takes it in.
        var plan = PlanJson.Serialize(DeterministicPlanner.Plan(DeterministicPlanner.WithFeedback(request.Definition, request.Review?.Feedback), request.Agents));
        return new ModelReply<string>(plan, Usage(request.Definition.Goal, plan));
    }

    ModelReply<string> RunTask(AgentTaskRequest request)
    {
        var text = new StringBuilder();
        text.AppendLine($"## {request.Task.Name}").AppendLine();
        text.AppendLine($"_{Notice}_").AppendLine();
        text.AppendLine($"Agent: {request.Agent.Name}. Goal: {request.Goal.Trim()}").AppendLine();

        var section = request.Agent.Name.ToLowerInvariant() switch
        {
            "research" => "Findings",
            "analyst" => "Comparison",
            _ => "Draft",
        };
        List<string> review = [];
        if (request.Revision is { } revision)
        {
            // A draft sent back: say so first, then add the reviewer's points to the main section below.
            review = ReviewPoints(revision.Feedback);
            AppendRevision(text, revision, review, section);
        }

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
                text.AppendLine($"- {u.TaskId} ({u.Name}): {Gist(Conclusion(WithoutFiller(u.Output)))}");
            }

            text.AppendLine();
        }

        var subject = Subject(request.Task.Name);
        var voice = humans.Count > 0 ? $" in line with \"{Gist(humans[0].Output)}\"" : "";
        var round = request.Revision?.Round ?? 0;
        switch (section)
        {
            case "Findings":
                text.AppendLine("### Findings");
                for (var i = 1; i <= 5; i++)
                {
                    text.AppendLine($"{i}. {Capitalise(subject)}: candidate {i}, noted for {Facet(i)} (unverified: simulated).");
                }

                foreach (var (point, i) in review.Select((p, i) => (p, i)))
                {
                    text.AppendLine($"{6 + i}. {point} (asked in review round {round}; unverified: simulated).");
                }

                text.AppendLine().AppendLine("### Open questions").AppendLine($"- Which of these matter most for: {request.Goal.Trim()}");
                break;
            case "Comparison":
                text.AppendLine("### Comparison").AppendLine("| option | strength | risk | confidence |").AppendLine("|---|---|---|---|");
                for (var i = 1; i <= 3; i++)
                {
                    text.AppendLine($"| {Capitalise(subject)} option {i} | {Facet(i)} | {Facet(i + 2)} | {(i == 1 ? "high" : "medium")} |");
                }

                foreach (var point in review)
                {
                    text.AppendLine($"| Review round {round}: {point.Replace("|", "\\|", StringComparison.Ordinal)} | addressed | to confirm | medium |");
                }

                text.AppendLine().AppendLine("### Decision")
                    .AppendLine($"Prefer option 1 for {subject}{voice}; revisit if the inputs above change.");
                break;
            default:
                text.AppendLine("### Draft");
                text.AppendLine($"1. Frame {subject}{voice}.");
                text.AppendLine($"2. Turn the inputs above ({string.Join(", ", request.Inputs.Select(i => i.TaskId).DefaultIfEmpty("none"))}) into concrete actions.");
                text.AppendLine("3. Set owners, dates and a measure of success for each action.");
                foreach (var (point, i) in review.Select((p, i) => (p, i)))
                {
                    text.AppendLine($"{4 + i}. {point} (asked in review round {round}).");
                }

                text.AppendLine().AppendLine("### Next steps").AppendLine($"- Review this draft of {subject} and adjust it to real data.");
                break;
        }

        var output = Pad(text.ToString().TrimEnd(), options.Value.OutputChars, request.Task.TaskId);
        var read = request.SystemPrompt + request.Goal + string.Concat(request.Inputs.Select(i => i.Output)) +
                   request.Revision?.PreviousDraft + request.Revision?.Feedback;
        return new ModelReply<string>(output, Usage(read, output));
    }

    /// <summary>Says that this is a revision: the feedback quoted whole, and what changed because of it.</summary>
    static void AppendRevision(StringBuilder text, Revision revision, IReadOnlyList<string> points, string section)
    {
        text.AppendLine($"### Revised after feedback (round {revision.Round})");
        text.AppendLine("The previous draft was sent back with this feedback:");
        foreach (var line in revision.Feedback.Trim().Split('\n'))
        {
            text.AppendLine($"> {line.TrimEnd()}");
        }

        text.AppendLine().AppendLine("What changed from the previous draft:");
        foreach (var point in points)
        {
            text.AppendLine($"- Added to {section}: \"{point}\".");
        }

        var previousWords = Words(WithoutFiller(revision.PreviousDraft));
        text.AppendLine($"- Kept the rest of the previous draft ({previousWords} words) as it was.").AppendLine();
    }

    /// <summary>The feedback's points, one per sentence or line, each short enough for a list item.</summary>
    static List<string> ReviewPoints(string feedback) =>
        ReviewBreak().Split(feedback)
            .Select(p => p.Trim().TrimStart('-', '*', '•', ' ').TrimEnd('.', ';', ' ').Trim())
            .Where(p => p.Length > 0)
            .Select(p => Capitalise(Gist(p)))
            .Take(MaxReviewPoints)
            .ToList();

    /// <summary>Appends marked filler paragraphs until the output has at least <paramref name="chars"/> characters.</summary>
    static string Pad(string output, int chars, string taskId)
    {
        if (output.Length >= chars)
        {
            return output;
        }

        var text = new StringBuilder(output, chars + 256);
        text.AppendLine().AppendLine().AppendLine(FillerHeading).AppendLine()
            .Append("_Padding added for size tests (Orchflow:Simulated:OutputChars): not content; the agents and the synthesis ignore it._");
        for (var i = 1; text.Length < chars; i++)
        {
            text.AppendLine().AppendLine().Append($"Filler paragraph {i} of {taskId}. This paragraph only gives the simulated output a realistic size; ")
                .Append("it carries no information about the task, the goal or the human's answers.");
        }

        return text.ToString();
    }

    /// <summary>An output without the padding of <see cref="Pad"/>: what the next task or the synthesis builds on.</summary>
    static string WithoutFiller(string output)
    {
        var filler = output.IndexOf(FillerHeading, StringComparison.Ordinal);
        return filler < 0 ? output : output[..filler].TrimEnd();
    }

    ModelReply<string> Synthesize(SynthesisRequest request)
    {
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
            text.AppendLine($"### {r.TaskId}. {r.Name}").AppendLine(Gist(Conclusion(WithoutFiller(r.Output)))).AppendLine();
        }

        var last = request.Results.LastOrDefault(r => r.Kind == TaskKind.Agent);
        if (last is not null)
        {
            text.AppendLine("## Deliverable").AppendLine(WithoutFiller(last.Output).Trim());
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

    /// <summary>The first meaningful line of a text, shortened: what a reader needs to see it was used.</summary>
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

    [GeneratedRegex(@"(?<=[.!?])\s+|[;\n]")]
    private static partial Regex ReviewBreak();
}
