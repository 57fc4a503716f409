using System.Text.RegularExpressions;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Models.Simulated;

/// <summary>One thing a person said, split out of an answer: "Brand voice: direct." is labelled "Brand voice".</summary>
internal sealed record HumanFact(string Label, string Value)
{
    /// <summary>The fact quoted as the person wrote it.</summary>
    public string Quoted => $"\"{Value}\"";
}

/// <summary>What every simulated writer reads a task by: its goal's topic, the person's facts, the outputs it builds on.</summary>
internal sealed partial class SimulatedTask(AgentTaskRequest request, IReadOnlyList<string> review)
{
    public AgentTaskRequest Request => request;

    public string Name => request.Task.Name;

    public string TaskId => request.Task.TaskId;

    /// <summary>The reviewer's points when a draft was sent back, each to be added to the main section once.</summary>
    public IReadOnlyList<string> Review => review;

    public int Round => request.Revision?.Round ?? 0;

    public IReadOnlyList<TaskInput> Humans { get; } = request.Inputs.Where(i => i.Kind == TaskKind.Human).ToList();

    public IReadOnlyList<TaskInput> Upstream { get; } = request.Inputs.Where(i => i.Kind == TaskKind.Agent).ToList();

    public IReadOnlyList<HumanFact> Facts { get; } = SimulatedText.Facts(request.Inputs.Where(i => i.Kind == TaskKind.Human));

    public string Topic => SimulatedText.Topic(request.Goal, Facts);

    /// <summary>What the task works on: its name without the verb ("Define our positioning" → "our positioning").</summary>
    public string Subject => SimulatedText.Subject(Name);

    /// <summary>The value of the first fact whose label contains <paramref name="label"/>, quoted; else <paramref name="otherwise"/>.</summary>
    public string Fact(string label, string otherwise) =>
        Facts.FirstOrDefault(f => f.Label.Contains(label, StringComparison.OrdinalIgnoreCase))?.Quoted ?? otherwise;

    public string Audience => Fact("audience", "the audience the goal names");

    public string Voice => Fact("voice", "a plain, direct voice");

    /// <summary>Whether the task's name mentions any of <paramref name="words"/> as a word.</summary>
    public bool Names(params string[] words) => words.Any(w => Regex.IsMatch(Name, $@"\b{Regex.Escape(w)}", RegexOptions.IgnoreCase));

    /// <summary>An upstream task named for <paramref name="word"/>, as "T9 (Decide the branding direction)", else null.</summary>
    public string? From(string word) =>
        Upstream.FirstOrDefault(u => u.Name.Contains(word, StringComparison.OrdinalIgnoreCase)) is { } u ? $"{u.TaskId} ({u.Name})" : null;

    /// <summary>The reviewer's points as lines of a section, each marked with the round that asked for it.</summary>
    public IEnumerable<string> ReviewLines(string prefix) => Review.Select(p => $"{prefix}{p} (asked in review round {Round}).");
}

/// <summary>Small text helpers shared by the simulated writers.</summary>
internal static partial class SimulatedText
{
    /// <summary>The facts in the people's answers: one per sentence or line, labelled by "Label:" or by the task that asked.</summary>
    public static IReadOnlyList<HumanFact> Facts(IEnumerable<TaskInput> humans) =>
        humans.SelectMany(h => FactBreak().Split(h.Output.Trim())
                .Select(s => s.Trim().TrimEnd('.').Trim())
                .Where(s => s.Length > 0)
                .Select(s => Labelled().Match(s) is { Success: true } m
                    ? new HumanFact(m.Groups["label"].Value.Trim(), m.Groups["value"].Value.Trim())
                    : Unlabelled(s, Topics(h.Name), h.Name)))
            .Where(f => f.Value.Length > 0)
            .ToList();

    /// <summary>
    /// A sentence without "Label:", labelled by the topic it names: "Target audience is solo freelancers" is the
    /// target audience, "solo freelancers"; else by the task that asked.
    /// </summary>
    static HumanFact Unlabelled(string sentence, IReadOnlyList<string> topics, string asked)
    {
        var topic = topics.FirstOrDefault(t => sentence.StartsWith(t, StringComparison.OrdinalIgnoreCase));
        if (topic is null)
        {
            return new HumanFact(asked, sentence);
        }

        var value = Linking().Replace(sentence[topic.Length..], "").Trim();
        return new HumanFact(Capitalise(topic), value.Length > 0 ? value : sentence);
    }

    /// <summary>The topics a context task asks for: "Provide brand voice, target audience and content constraints".</summary>
    static IReadOnlyList<string> Topics(string taskName) =>
        taskName.StartsWith("Provide ", StringComparison.Ordinal)
            ? TopicBreak().Split(taskName["Provide ".Length..]).Select(t => t.Trim()).Where(t => t.Length > 0).ToList()
            : [];

    /// <summary>What the goal is about: its "about …" phrase, else the product the person described, else its first clause.</summary>
    public static string Topic(string goal, IReadOnlyList<HumanFact> facts)
    {
        if (About().Match(goal) is { Success: true } about)
        {
            return about.Groups["topic"].Value.Trim();
        }

        var company = facts.FirstOrDefault(f => f.Label.Contains("company", StringComparison.OrdinalIgnoreCase) ||
                                                f.Label.Contains("product", StringComparison.OrdinalIgnoreCase));
        return company is not null ? OwnWords().Replace(company.Value, "") : Lower(FirstClause().Match(goal.Trim()).Value.Trim());
    }

    /// <summary>The goal's first sentence: the objective a final output is titled by.</summary>
    public static string Objective(string goal)
    {
        var first = Sentence().Match(goal.Trim()).Value.Trim();
        return first.Length is > 0 and <= 200 ? first.TrimEnd('.') : Shorten(goal.Trim().TrimEnd('.'), 200);
    }

    /// <summary>A task's name without its verbs: "Plan and launch a channel" → "a channel".</summary>
    public static string Subject(string taskName)
    {
        var words = taskName.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var skip = words.Length > 3 && words[1].Equals("and", StringComparison.OrdinalIgnoreCase) ? 3 : 1;
        return words.Length > skip ? string.Join(' ', words.Skip(skip)).TrimEnd('.') : taskName;
    }

    /// <summary>A list of ids as a sentence's subject: "T2 is", "T2, T3 are".</summary>
    public static string Are(IReadOnlyList<string> ids) => string.Join(", ", ids) + (ids.Count == 1 ? " is" : " are");

    /// <summary>
    /// What an output concluded: the text under its last section heading (a decision, a draft), else the whole
    /// output. Outputs that are not Markdown, such as a human's edit, are taken whole.
    /// </summary>
    public static string Conclusion(string output)
    {
        var lines = output.Split('\n');
        var lastHeading = Array.FindLastIndex(lines, l => l.StartsWith("### ", StringComparison.Ordinal));
        return lastHeading >= 0 && lastHeading < lines.Length - 1 ? string.Join('\n', lines[(lastHeading + 1)..]) : output;
    }

    /// <summary>The first meaningful line of a text, shortened: what a reader needs to see it was used.</summary>
    public static string Gist(string text)
    {
        var line = text.Split('\n').Select(l => l.Trim().TrimStart('#', '-', '*', '_', ' ').Replace("**", "", StringComparison.Ordinal).Trim())
            .FirstOrDefault(l => l.Length > 0 && !l.StartsWith("Simulated output", StringComparison.Ordinal) && !l.StartsWith("Not looked up", StringComparison.Ordinal)) ?? "";
        return Shorten(line, 160);
    }

    /// <summary>A text cut at a space to at most <paramref name="max"/> characters; a long line without spaces (a URL, a key) is cut mid-word.</summary>
    public static string Shorten(string line, int max) =>
        line.Length <= max ? line : line[..(line.LastIndexOf(' ', max - 3) is > 0 and var space ? space : max - 3)] + "…";

    public static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    public static string Lower(string text) => text.Length == 0 ? text : char.ToLowerInvariant(text[0]) + text[1..];

    /// <summary>A cell of a Markdown table: pipes escaped, lines joined.</summary>
    public static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace('\n', ' ');

    [GeneratedRegex(@"(?<=[.!?])\s+|\n")]
    private static partial Regex FactBreak();

    [GeneratedRegex(@"^(?<label>[A-Za-z][\w /-]{0,40}):\s*(?<value>.+)$")]
    private static partial Regex Labelled();

    [GeneratedRegex(@"^\s*(?:is|are|should be|will be|must be|=|-|—)\s+", RegexOptions.IgnoreCase)]
    private static partial Regex Linking();

    [GeneratedRegex(@",\s*|\s+and\s+")]
    private static partial Regex TopicBreak();

    [GeneratedRegex(@"\babout\s+(?<topic>[^.;,]+)", RegexOptions.IgnoreCase)]
    private static partial Regex About();

    // "we build workflow APIs" is about "workflow APIs".
    [GeneratedRegex(@"^(?:we|i)\s+(?:build|make|sell|run|offer|provide|develop)\s+", RegexOptions.IgnoreCase)]
    private static partial Regex OwnWords();

    [GeneratedRegex(@"^[^.;,]+")]
    private static partial Regex FirstClause();

    [GeneratedRegex(@"^.+?(?:[.!?](?=\s|$)|$)")]
    private static partial Regex Sentence();
}
