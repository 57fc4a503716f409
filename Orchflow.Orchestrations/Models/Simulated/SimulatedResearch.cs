using System.Text;
using System.Text.RegularExpressions;

namespace Orchflow.Models.Simulated;

/// <summary>
/// The research agent without internet or tools: what to look up and how, marked as not looked up, so a person (or a
/// model with tools) can fill it in and nothing invented passes for a finding.
/// </summary>
internal static partial class SimulatedResearch
{
    public const string NotLookedUp =
        "_Not looked up: Orchflow's offline model has no internet or tools, so these are the searches to run and what to record, not their results._";

    public static void Write(StringBuilder text, SimulatedTask task)
    {
        var facets = Facets(task);
        text.AppendLine("### Findings").AppendLine(NotLookedUp);
        text.AppendLine($"1. {Identify(task)}");
        foreach (var (facet, i) in facets.Select((f, i) => (f, i)))
        {
            text.AppendLine($"{i + 2}. {facet}");
        }

        foreach (var (line, i) in task.ReviewLines("").Select((l, i) => (l, i)))
        {
            text.AppendLine($"{facets.Count + 2 + i}. {line}");
        }

        text.AppendLine().AppendLine("### How to look it up");
        text.AppendLine($"- Where: {Sources(task)}.");
        text.AppendLine("- Record each answer with its source link and the date you saw it; mark what you could not confirm.");
        text.AppendLine($"- Done when every numbered line above has an answer and a source, for {task.Subject}.");
    }

    /// <summary>The first line of a research task's findings: what it has to find before anything else.</summary>
    public static string FirstStep(string output)
    {
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("1. ", StringComparison.Ordinal));
        // The step without its method: "Identify the competitor ranked 2 of 5 for …", the how is in the task's output.
        return line is null ? SimulatedText.Gist(SimulatedText.Conclusion(output)) : SimulatedText.Shorten(line[3..].Split(": ")[0].Trim().TrimEnd('.'), 200);
    }

    static string Identify(SimulatedTask task)
    {
        var topic = $"\"{task.Topic}\"";
        if (Share().Match(task.Name) is { Success: true } share)
        {
            // A branch of a fanned-out step: it finds its own ranks only, so the branches do not all find the same one.
            var ranks = share.Groups["last"].Success ? $"ranked {share.Groups["first"].Value} to {share.Groups["last"].Value}" : $"ranked {share.Groups["first"].Value}";
            var what = Share().Replace(task.Subject, "").Replace("  ", " ", StringComparison.Ordinal).Trim();
            var sort = Kind(task) == ResearchKind.Channel ? "views" : "reviews";
            return $"Identify the {what} {ranks} of {share.Groups["count"].Value} for {topic}: search for {topic}, sort by {sort}, " +
                   "and skip the ones the other parts of this step take. Record its name and link.";
        }

        return Kind(task) == ResearchKind.General
            ? $"Find three to five recent sources on {topic} for {task.Subject}: articles, official docs and data you can cite."
            : $"List the {task.Subject} that matter most for {topic}: a link to each, ranked by relevance.";
    }

    enum ResearchKind
    {
        Channel,
        Company,
        General,
    }

    static ResearchKind Kind(SimulatedTask task) =>
        task.Names("channel", "youtube", "creator", "podcast", "video") ? ResearchKind.Channel
        : task.Names("competitor", "company", "companies", "vendor", "rival", "product", "pricing", "market") ? ResearchKind.Company
        : ResearchKind.General;

    static List<string> Facets(SimulatedTask task) => Kind(task) switch
    {
        ResearchKind.Channel =>
        [
            "Size: subscribers, total views, and the views of the last 10 videos (channel page and its About tab).",
            "Cadence: how many videos in the last 90 days (Videos tab, sorted by latest).",
            "Formats: tutorials, reviews, lists or shorts, and the usual length of each.",
            "Hooks: the titles and thumbnails of the five most viewed videos (Popular sort).",
            "Money: sponsors, affiliate links or courses named in the descriptions.",
        ],
        ResearchKind.Company =>
        [
            "Pricing: each plan, its monthly price, and any free tier or trial (pricing page; keep a dated copy).",
            "Positioning: the home page headline and who it says the product is for.",
            "Customers: named customers, case studies, and the segments reviewers belong to.",
            "Strengths and gaps: the most repeated praise and complaints in recent reviews.",
            "Distribution: where its users come from (search, content, partners, marketplaces).",
        ],
        _ =>
        [
            $"Facts the next tasks need about {task.Topic}, each with its source.",
            "Numbers from the last 12 months that show how big or how current the topic is.",
            "Three examples that work, and what each does well.",
            "Questions the audience asks (forums, search suggestions, comments).",
            "Claims to leave out: anything you cannot source.",
        ],
    };

    static string Sources(SimulatedTask task) => Kind(task) switch
    {
        ResearchKind.Channel => "YouTube search and each channel's Videos, Popular and About pages; a free analytics site for history",
        ResearchKind.Company => "each company's home, pricing and docs pages; review sites; its recent announcements",
        _ => "search results from the last 12 months, official documentation, and forums where the audience asks questions",
    };

    // "competing channel 2 of 5", "competing channels 1–2 of 5", "competitors (number 3 of 5)".
    [GeneratedRegex(@"\s*(?:\(number\s+)?(?<first>\d+)(?:–(?<last>\d+))?\s+of\s+(?<count>\d+)\)?")]
    private static partial Regex Share();
}
