using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using static Orchflow.Models.Simulated.SimulatedText;

namespace Orchflow.Models.Simulated;

/// <summary>
/// The writer: a draft shaped by the deliverable its task names (a day-by-day table for an N-day plan, tick boxes for a
/// checklist, phases for a roadmap, paragraphs for a post), built from the decisions upstream and the person's words.
/// </summary>
internal static partial class SimulatedWriting
{
    /// <summary>The longest day-by-day plan written out row by row.</summary>
    const int MaxDays = 90;

    public static void Write(StringBuilder text, SimulatedTask task)
    {
        var edit = IsEdit(task.Name);
        var previous = edit ? task.Upstream.LastOrDefault(u => u.Output.Contains("### Draft", StringComparison.Ordinal)) : null;
        if (previous is not null)
        {
            text.AppendLine("### Edits made").AppendLine($"- Added a one-line summary under the title, for readers who skim ({previous.TaskId}'s draft had none).");
            text.AppendLine($"- Ended on one call to action that speaks to {task.Audience}.").AppendLine("- Kept every section and fact of the draft as it was.").AppendLine();
        }

        text.AppendLine("### Draft");
        if (previous is not null)
        {
            Edited(text, task, Draft(previous.Output));
        }
        else if (Days().Match(task.Name) is { Success: true } days)
        {
            DayPlan(text, task, Math.Min(int.Parse(days.Groups["days"].Value, CultureInfo.InvariantCulture), MaxDays));
        }
        else if (task.Names("checklist", "check list", "to-do"))
        {
            Checklist(text, task);
        }
        else if (task.Names("roadmap", "milestones", "implementation plan"))
        {
            Roadmap(text, task);
        }
        else if (task.Names("post", "article", "blog", "newsletter", "essay", "script"))
        {
            Post(text, task);
        }
        else if (task.Names("strategy", "launch", "plan", "proposal", "go-to-market"))
        {
            Strategy(text, task);
        }
        else
        {
            Actions(text, task);
        }

        foreach (var line in task.ReviewLines("- Review round " + task.Round + ": "))
        {
            text.AppendLine(line);
        }
    }

    /// <summary>Whether a task reworks a draft made before it ("Edit the blog post").</summary>
    public static bool IsEdit(string taskName) => EditVerb().IsMatch(taskName);

    /// <summary>The lines of an output's "### Draft" section: what an edit or the synthesis takes from it.</summary>
    public static List<string> Draft(string output)
    {
        var lines = output.Split('\n').Select(l => l.TrimEnd()).ToList();
        var start = lines.FindIndex(l => l == "### Draft");
        return start < 0 ? [] : lines.Skip(start + 1).TakeWhile(l => !l.StartsWith("### ", StringComparison.Ordinal)).ToList();
    }

    static void DayPlan(StringBuilder text, SimulatedTask task, int days)
    {
        var perWeek = PerWeek(task);
        string[] pillars = ["Tool review", "How-to walkthrough", "Workflow teardown", "Head-to-head comparison", "Mistakes to avoid"];
        string[] angles = ["the first step", "an hour saved each week", "a beginner's setup", "what the pros use", "free or paid", "a full workflow", "results after a month", "the hidden costs"];
        string[] prep = ["Script and outline the next piece", "Record the voice-over and screen capture", "Edit, then make the thumbnail and title",
            "Reply to comments; note the questions asked", "Check click-through and retention; adjust the next title"];
        var publishDays = Enumerable.Range(0, perWeek).Select(j => j * 7 / perWeek + 1).ToHashSet();
        text.AppendLine($"**A {days}-day content plan** for \"{task.Topic}\": {perWeek} pieces a week for {task.Audience}, in the voice {task.Voice}.");
        if (task.From("position") is { } positioning)
        {
            text.AppendLine($"Every title follows the positioning of {positioning}; every thumbnail the branding of {task.From("brand") ?? "the branding decision"}.");
        }

        text.AppendLine().AppendLine("| Day | Work | Format | Measure |").AppendLine("|---|---|---|---|");
        var published = 0;
        for (var day = 1; day <= days; day++)
        {
            if (publishDays.Contains((day - 1) % 7 + 1))
            {
                var pillar = pillars[published % pillars.Length];
                var angle = angles[published / pillars.Length % angles.Length];
                published++;
                text.AppendLine($"| {day} | Publish #{published}: {pillar}, {task.Topic}: {angle} | {(published % 3 == 0 ? "short (under 60 s)" : "video, 8–12 min")} | views and retention after 48 h |");
            }
            else
            {
                text.AppendLine($"| {day} | {prep[(day - 1) % prep.Length]} (for #{published + 1}) | preparation | ready on time |");
            }
        }
    }

    /// <summary>How many pieces a week the person asked for ("two videos a week"), else two.</summary>
    static int PerWeek(SimulatedTask task)
    {
        var asked = task.Facts.Select(f => PerWeekAsked().Match(f.Value)).FirstOrDefault(m => m.Success);
        if (asked is null)
        {
            return 2;
        }

        var n = asked.Groups["n"].Value.ToLowerInvariant();
        var count = int.TryParse(n, out var parsed) ? parsed : Array.IndexOf(["one", "two", "three", "four", "five", "six", "seven"], n) + 1;
        return Math.Clamp(count, 1, 7);
    }

    static void Checklist(StringBuilder text, SimulatedTask task)
    {
        text.AppendLine($"**A launch checklist** for \"{task.Topic}\", in the order to tick it.").AppendLine();
        text.AppendLine("Before launch:");
        foreach (var upstream in task.Upstream)
        {
            text.AppendLine($"- [ ] {upstream.TaskId} ({upstream.Name}) is done and its open points are settled.");
        }

        text.AppendLine("- [ ] Accounts, names and handles reserved everywhere you will publish.");
        text.AppendLine($"- [ ] Name, logo, banner and thumbnail template follow {task.From("brand") ?? "the branding decided upstream"}.");
        text.AppendLine("- [ ] The first three pieces are finished before day one, so a bad week does not break the schedule.");
        text.AppendLine("- [ ] Description template with links, disclosure of affiliate links, and a pinned comment.");
        text.AppendLine().AppendLine("Launch day:");
        text.AppendLine($"- [ ] Publish the first piece when {task.Audience} is online.");
        text.AppendLine("- [ ] Share it where that audience already gathers (two or three communities, no spam).");
        text.AppendLine("- [ ] Ask one question in the pinned comment: what should the next piece cover?");
        text.AppendLine().AppendLine("First two weeks:");
        text.AppendLine($"- [ ] Publish on the schedule of {task.From("day") ?? "the content plan"}; missing a slot costs more than a weaker piece.");
        text.AppendLine("- [ ] Read click-through and retention after 48 hours; change the titles and thumbnails that lag.");
        text.AppendLine("- [ ] Answer every comment; add the best questions to the plan.");
    }

    static void Roadmap(StringBuilder text, SimulatedTask task)
    {
        var design = task.From("design") ?? task.From("system") ?? "the design";
        var risks = task.From("risk") ?? task.From("security") ?? "the risk review";
        text.AppendLine($"**An implementation roadmap** in four phases, built on {design} and {risks}, within {task.Fact("constraint", "the constraints given")}.").AppendLine();
        (string Phase, string[] Work, string Exit)[] phases =
        [
            ("Phase 1 — Foundations (weeks 1–2)", ["Repository, CI and environments; the API skeleton with authentication", $"Close the high-impact risks of {risks} that shape the data model"], "a request goes through the API to storage and back in CI"),
            ("Phase 2 — Core (weeks 3–6)", [$"The core domain and storage of {design}", "Background jobs for slow work, idempotent from the start"], "the main use case works end to end for one account"),
            ("Phase 3 — Money and safety (weeks 7–8)", ["Billing: plans, usage metering, invoices", "Rate limits, audit log, backups and a restore drill"], "a test customer is billed correctly, twice in a row"),
            ("Phase 4 — Launch and learn (weeks 9–10)", ["Dashboards and alerts on errors, latency and failed payments", "A private beta with five customers; fix what they hit"], "a week of beta traffic with no high-severity incident"),
        ];
        foreach (var (phase, work, exit) in phases)
        {
            text.AppendLine($"**{phase}**");
            foreach (var item in work)
            {
                text.AppendLine($"- {item}.");
            }

            text.AppendLine($"- Exit: {exit}.").AppendLine();
        }
    }

    static void Post(StringBuilder text, SimulatedTask task)
    {
        var topic = task.Topic;
        text.AppendLine($"**{Capitalise(topic)}: what works, what to skip, and where to start**").AppendLine();
        text.AppendLine($"Written for {task.Audience}, in the voice {task.Voice}.").AppendLine();
        text.AppendLine($"Most advice on {topic} is a list of products. This post is a way to choose: start from the work you repeat every week, " +
                        "try one tool on it for a fortnight, and keep it only if it saves time you can count.").AppendLine();
        text.AppendLine($"**Why it matters.** Time spent on repeated work is time not billed. {Capitalise(topic)} pay off where the work is frequent, " +
                        "dull and easy to check — not where judgement is the product.").AppendLine();
        text.AppendLine("**Where to start.** List last month's tasks, mark the ones you did more than four times, and pick the one that took longest. " +
                        "That is the first candidate; the research this post is built on lists what to compare.").AppendLine();
        text.AppendLine("**What to skip.** Tools that need a week of setup, tools that hold your clients' data without saying where, " +
                        "and anything whose output you would have to rewrite.").AppendLine();
        text.AppendLine("**The takeaway.** One tool, one task, two weeks, a number at the end. Then the next one.");
    }

    /// <summary>The edit: the draft's own lines with a summary under its title and a closing call to action.</summary>
    static void Edited(StringBuilder text, SimulatedTask task, List<string> draft)
    {
        var lines = draft.Where(l => !l.StartsWith("- Review round", StringComparison.Ordinal)).ToList();
        var title = lines.FindIndex(l => l.Trim().Length > 0);
        for (var i = 0; i < lines.Count; i++)
        {
            text.AppendLine(lines[i]);
            if (i == title)
            {
                text.AppendLine().Append($"_In one line: for {task.Audience}, the way to choose among {task.Topic} is one task, one tool, two weeks, one number._").AppendLine();
            }
        }

        text.AppendLine().AppendLine($"**Your turn.** Which task will you try first? Tell us in the comments; the most asked one is our next post.");
    }

    static void Strategy(StringBuilder text, SimulatedTask task)
    {
        var decisions = task.Upstream.Where(u => !u.Name.StartsWith("Research", StringComparison.OrdinalIgnoreCase)).ToList();
        var about = task.Subject.Contains(task.Topic, StringComparison.OrdinalIgnoreCase) ? "" : $" for {task.Topic}";
        text.AppendLine($"**{Capitalise(task.Subject)}**{about}, for {task.Audience}.").AppendLine();
        foreach (var decision in decisions)
        {
            text.AppendLine($"- From {decision.TaskId} ({decision.Name}): {Gist(Conclusion(decision.Output))}");
        }

        text.AppendLine($"- Voice: {task.Voice}, in every page, post and email.");
        text.AppendLine($"- Offer: lead with the one use case the research says {task.Audience} pays for; price against the grid upstream once it is filled in.");
        text.AppendLine("- Channels: two that the audience already uses, chosen from the research; one launch post in each, then a weekly cadence.");
        text.AppendLine().AppendLine("| Weeks | Focus | Measure |").AppendLine("|---|---|---|");
        text.AppendLine("| 1–2 | Fill in the research marked as not looked up; confirm positioning and prices | every open question answered |");
        text.AppendLine("| 3–4 | Launch: page, announcement, first ten conversations | ten qualified conversations |");
        text.AppendLine("| 5–8 | Weekly content and follow-ups; fix what the first users hit | first paying users |");
        text.AppendLine("| 9–12 | Double down on the channel that converts; drop the other | cost per customer known |");
    }

    static void Actions(StringBuilder text, SimulatedTask task)
    {
        text.AppendLine($"**{Capitalise(task.Subject)}**, in line with {task.Voice} and written for {task.Audience}.").AppendLine();
        text.AppendLine("| # | Action | Built on | Measure |").AppendLine("|---|---|---|---|");
        var n = 0;
        foreach (var input in task.Upstream)
        {
            text.AppendLine($"| {++n} | Turn {input.TaskId} ({Cell(input.Name)}) into a decision or a deliverable | {input.TaskId} | done and reviewed |");
        }

        text.AppendLine($"| {++n} | Write {task.Subject} from the inputs above | {string.Join(", ", task.Request.Inputs.Select(i => i.TaskId).DefaultIfEmpty("the goal"))} | a draft a person can approve |");
        text.AppendLine($"| {++n} | Check it against the goal and the person's answers | the goal | nothing the goal names is missing |");
    }

    [GeneratedRegex(@"\b(?<days>[1-9][0-9]?)[- ]day\b", RegexOptions.IgnoreCase)]
    private static partial Regex Days();

    [GeneratedRegex(@"\b(?<n>[1-7]|one|two|three|four|five|six|seven)\s+(?:videos?|posts?|pieces?|episodes?)\s+(?:a|per)\s+week\b", RegexOptions.IgnoreCase)]
    private static partial Regex PerWeekAsked();

    [GeneratedRegex(@"^(?:edit|revise|proofread|polish)\b", RegexOptions.IgnoreCase)]
    private static partial Regex EditVerb();
}
