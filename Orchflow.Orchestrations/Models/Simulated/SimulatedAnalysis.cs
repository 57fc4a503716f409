using System.Text;
using static Orchflow.Models.Simulated.SimulatedText;

namespace Orchflow.Models.Simulated;

/// <summary>
/// The analyst: a comparison set against the person's own words, quoted, then a decision that says which words decided
/// it. Risks become a register, a system a component design, an extraction a grid to fill from the research.
/// </summary>
internal static class SimulatedAnalysis
{
    /// <summary>How many of the person's facts a comparison is set against: more would not fit a table.</summary>
    const int MaxCriteria = 3;

    public static void Write(StringBuilder text, SimulatedTask task)
    {
        var criteria = Criteria(task);
        text.AppendLine("### Comparison");
        if (task.Names("risk", "risks", "security", "threat", "audit"))
        {
            Risks(text, task);
        }
        else if (task.Names("extract", "pattern", "patterns", "pricing", "prices"))
        {
            Grid(text, task);
        }
        else
        {
            Options(text, task, criteria);
        }

        foreach (var point in task.Review)
        {
            text.AppendLine($"| Review round {task.Round}: {Cell(point)} | addressed in this revision |");
        }

        if (task.Names("design", "architect", "architecture", "system"))
        {
            Components(text, task);
        }

        text.AppendLine().AppendLine("### Decision").AppendLine(Decision(task, criteria));
    }

    /// <summary>The person's facts an option is judged against; without any, the goal itself.</summary>
    static List<HumanFact> Criteria(SimulatedTask task) =>
        task.Facts.Count > 0 ? task.Facts.Take(MaxCriteria).ToList() : [new HumanFact("the goal", Shorten(task.Request.Goal.Trim(), 80))];

    static void Options(StringBuilder text, SimulatedTask task, List<HumanFact> criteria)
    {
        text.AppendLine($"| {Cell(Shorten(Capitalise(task.Subject), 60))}: option | what it means | " +
                        string.Join(" | ", criteria.Select(c => $"against {Cell(c.Label)} {Cell(c.Quoted)}")) + " |");
        text.AppendLine("|---|---|" + string.Concat(criteria.Select(_ => "---|")));
        string[] verdicts = ["fits", "partly fits", "conflicts"];
        foreach (var (option, i) in OptionsFor(task).Select((o, i) => (o, i)))
        {
            // Option 1 is built from the person's own words, so it is the one that fits them; the others show what else was weighed.
            var cells = criteria.Select((_, c) => verdicts[i == 0 ? 0 : i == 1 ? 1 : c == 0 ? 2 : 1]);
            text.AppendLine($"| {i + 1}. {Cell(option.Name)} | {Cell(option.Means)} | {string.Join(" | ", cells)} |");
        }
    }

    static (string Name, string Means)[] OptionsFor(SimulatedTask task)
    {
        var topic = task.Topic;
        if (task.Names("position", "positioning"))
        {
            return
            [
                ($"Niche: {topic}, made for {task.Audience}", "one audience, named in every title and description"),
                ($"Broad: {topic} for everyone", "more searches, but nothing a viewer remembers you for"),
                ($"Price-led: only the free and cheap side of {topic}", "easy to start, hard to sponsor or sell"),
            ];
        }

        if (task.Names("brand", "branding", "voice", "name"))
        {
            return
            [
                ($"Plain and practical, in the voice {task.Voice}", "clean thumbnails, one accent colour, titles that promise a result"),
                ("Loud and fast-cut", "high-energy edits and faces of surprise, at odds with a calm channel"),
                ("Premium and polished", "studio look and long intros; slower to make each week"),
            ];
        }

        if (task.Names("design", "architect", "architecture", "system"))
        {
            return
            [
                ("Modular monolith with a job queue", "one deployable, modules by concern, background work on a queue"),
                ("Microservices", "a service per concern; more moving parts from day one"),
                ("Serverless functions only", "pay per call; cold starts and scattered state"),
            ];
        }

        var subject = Shorten(Capitalise(task.Subject), 60);
        return
        [
            ($"{subject}, focused on {task.Audience}", "do fewer things for the people the answers name"),
            ($"{subject}, for every audience", "wider reach, weaker fit"),
            ($"{subject}, after more research", "wait until the research marked as not looked up is filled in"),
        ];
    }

    /// <summary>An extraction: one row per researched source, the columns to fill from its findings.</summary>
    static void Grid(StringBuilder text, SimulatedTask task)
    {
        string[] columns = task.Names("pricing", "prices")
            ? ["plans", "entry price a month", "free tier or trial", "billed by"]
            : ["formats", "videos a month", "title hooks", "typical length"];
        text.AppendLine($"| source for {Cell(task.Subject)} | {string.Join(" | ", columns)} |");
        text.AppendLine("|---|" + string.Concat(columns.Select(_ => "---|")));
        var sources = task.Upstream.Count > 0 ? task.Upstream.Select(u => (u.TaskId, u.Name)).ToList() : [("the research", "no research task ran before this one")];
        foreach (var (id, name) in sources)
        {
            text.AppendLine($"| {id}: {Cell(name)} | " + string.Join(" | ", columns.Select(c => $"fill from {id}'s findings")) + " |");
        }
    }

    static void Risks(StringBuilder text, SimulatedTask task)
    {
        text.AppendLine($"| risk ({Cell(task.Subject)}) | likelihood | impact | mitigation |").AppendLine("|---|---|---|---|");
        var security = task.Names("security") || !task.Names("billing");
        if (security)
        {
            text.AppendLine("| Security: API keys leak through logs, URLs or client code | medium | high | keys hashed at rest, masked in logs, header-only |");
            text.AppendLine("| Security: one tenant reads another's data | low | high | every query scoped by account; a test per route |");
            text.AppendLine("| Security: user text injected into prompts or queries | medium | medium | parameterised queries; prompts treat user text as data |");
        }

        if (task.Names("billing"))
        {
            text.AppendLine("| Billing: a retried payment charges a customer twice | medium | high | idempotency keys on every charge |");
            text.AppendLine("| Billing: usage goes unmetered when a webhook fails | medium | high | record usage first, reconcile daily with the provider |");
            text.AppendLine("| Billing: a mid-cycle plan change is prorated wrong | low | medium | let the payment provider prorate; test upgrades and downgrades |");
        }
    }

    static void Components(StringBuilder text, SimulatedTask task)
    {
        text.AppendLine().AppendLine("### Design").AppendLine("| component | responsibility | first choice |").AppendLine("|---|---|---|");
        text.AppendLine("| HTTP API | validates requests, authenticates, answers problem details | one service, versioned routes |");
        text.AppendLine("| Accounts and keys | sign-up, API keys, roles | keys hashed; one table per concern |");
        text.AppendLine("| Core domain | the product's rules, one owner per piece of state | pure functions, tested without I/O |");
        text.AppendLine("| Background jobs | long or retried work off the request path | a durable queue with idempotent handlers |");
        text.AppendLine("| Storage | the system of record | one managed database, backups on |");
        if (task.Request.Goal.Contains("billing", StringComparison.OrdinalIgnoreCase))
        {
            text.AppendLine("| Billing | plans, usage metering, invoices | a payment provider; usage recorded before it is billed |");
        }

        text.AppendLine("| Observability | logs, metrics, traces, alerts | OpenTelemetry to one backend |");
    }

    static string Decision(SimulatedTask task, List<HumanFact> criteria)
    {
        var reasons = string.Join(" and ", criteria.Select(c => c.Quoted));
        var research = task.Upstream.Where(u => u.Name.StartsWith("Research", StringComparison.OrdinalIgnoreCase)).Select(u => u.TaskId).ToList();
        var revisit = research.Count > 0 ? $"revisit once {Are(research)} looked up" : "revisit when the inputs above change";
        if (task.Names("risk", "risks", "security", "threat", "audit"))
        {
            return $"For {task.Subject}: fix every high-impact risk above before launch and accept the rest with monitoring, " +
                   $"weighed against {reasons}; {revisit}.";
        }

        if (task.Names("extract", "pattern", "patterns", "pricing", "prices"))
        {
            return $"For {task.Subject}: fill the grid from the findings, keep what at least three sources share, " +
                   $"and drop whatever conflicts with {reasons}; {revisit}.";
        }

        return $"Prefer option 1 for {task.Subject}: it is the one that fits {reasons}; {revisit}.";
    }
}
