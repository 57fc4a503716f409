using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Models.Simulated;
using Orchflow.Planning;
using static Orchflow.Models.Simulated.SimulatedText;
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

        var task = new SimulatedTask(request, review);
        if (task.Humans.Count > 0)
        {
            text.AppendLine("### Context from the human");
            foreach (var h in task.Humans)
            {
                text.AppendLine($"- {h.TaskId} ({h.Name}): \"{h.Output.Trim()}\"");
            }

            text.AppendLine();
        }

        if (task.Upstream.Count > 0)
        {
            text.AppendLine("### Built on");
            foreach (var u in task.Upstream)
            {
                text.AppendLine($"- {u.TaskId} ({u.Name}): {Gist(Conclusion(WithoutFiller(u.Output)))}");
            }

            text.AppendLine();
        }

        switch (section)
        {
            case "Findings":
                SimulatedResearch.Write(text, task);
                break;
            case "Comparison":
                SimulatedAnalysis.Write(text, task);
                break;
            default:
                SimulatedWriting.Write(text, task);
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

    static ModelReply<string> Synthesize(SynthesisRequest request)
    {
        var output = SimulatedSynthesis.Write(request, WithoutFiller);
        return new ModelReply<string>(output, Usage(string.Concat(request.Results.Select(r => r.Output)), output));
    }

    Task DelayAsync(CancellationToken cancellationToken) =>
        options.Value.LatencyMs > 0
            ? Task.Delay(TimeSpan.FromMilliseconds(options.Value.LatencyMs), clock, cancellationToken)
            : Task.CompletedTask;

    /// <summary>The simulated model reports words as tokens.</summary>
    static TokenUsage Usage(string input, string output) => new(Words(input), Words(output));

    static long Words(string text) => Word().Count(text);

    [GeneratedRegex(@"\S+")]
    private static partial Regex Word();

    [GeneratedRegex(@"(?<=[.!?])\s+|[;\n]")]
    private static partial Regex ReviewBreak();
}
