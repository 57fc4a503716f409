using System.Text.RegularExpressions;
using Orchflow.Agents;
using Orchflow.Domain;

namespace Orchflow.Planning;

/// <summary>
/// Plans a run without a model: splits the goal into steps, gives each step to the agent whose work its verb
/// describes, and puts a human task first when the run asks for context. Deterministic: the same request always
/// yields the same plan.
/// </summary>
/// <remarks>
/// Scheduling rules, in full:
/// <list type="bullet">
/// <item>A research step that names a count ("Research 5 competing channels") fans out into that many parallel tasks,
/// at most <see cref="MaxBranches"/> (each then covers a range), within the plan's task budget.</item>
/// <item>Consecutive research steps run side by side, as do consecutive decisions ("define …", "decide …", "choose …"):
/// each depends on what came before the run of them, and the next step depends on all of them.</item>
/// <item>A step introduced by "then", or a decision that refers back ("… for it", "… of them"), waits for the step before it.</item>
/// <item>Every other step depends on the step (or side-by-side group) before it, and every non-research step on the human task.</item>
/// </list>
/// </remarks>
public static partial class DeterministicPlanner
{
    public const string Name = "deterministic";
    public const int MaxTasks = 20;

    /// <summary>The most parallel tasks one counted research step fans out into.</summary>
    public const int MaxBranches = 5;

    /// <summary>PlanValidator's bound on a description: a long goal of one clause must not make the plan invalid.</summary>
    const int MaxDescriptionLength = 2000;

    enum Stage
    {
        Research,
        Analysis,
        Writing,
    }

    static readonly Dictionary<Stage, string[]> AgentPreference = new()
    {
        [Stage.Research] = ["research", "analyst", "writer"],
        [Stage.Analysis] = ["analyst", "research", "writer"],
        [Stage.Writing] = ["writer", "analyst", "research"],
    };

    /// <summary>The goal with a reviewer's feedback as its last sentence: planned, the feedback is a step of its own.</summary>
    public static RunDefinition WithFeedback(RunDefinition definition, string? feedback) =>
        string.IsNullOrWhiteSpace(feedback)
            ? definition
            : definition with { Goal = definition.Goal.TrimEnd().TrimEnd('.') + ". " + feedback.Trim() };

    public static RunPlan Plan(RunDefinition definition, IReadOnlyList<AgentSpec> agents)
    {
        var steps = Steps(definition.Goal, agents);
        var tasks = new List<PlannedTask>();
        string? humanTask = null;
        if (definition.AskMeAbout.Count > 0)
        {
            humanTask = TaskIds.Of(1);
            tasks.Add(ContextTask(humanTask, definition.AskMeAbout));
        }

        var maxSteps = MaxTasks - tasks.Count;
        if (steps.Count > maxSteps)
        {
            // Keep the plan within bounds by folding the tail into the last step rather than dropping work.
            var tail = string.Join("; ", steps.Skip(maxSteps - 1).Select(s => s.Text));
            steps = [.. steps.Take(maxSteps - 1), steps[maxSteps - 1] with { Text = tail }];
        }

        var spare = maxSteps - steps.Count;
        List<string> group = [];
        List<string> groupDependencies = [];
        Step? previous = null;
        foreach (var step in steps)
        {
            if (previous is null || !SideBySide(previous, step))
            {
                groupDependencies = group;
                group = [];
            }

            var branches = Branches(step, spare);
            spare -= branches.Count - 1;
            foreach (var (title, description) in branches)
            {
                var id = TaskIds.Of(tasks.Count + 1);
                List<string> dependsOn = humanTask is not null && step.Stage != Stage.Research
                    ? [humanTask, .. groupDependencies.Where(d => d != humanTask)]
                    : [.. groupDependencies];
                tasks.Add(new PlannedTask(id, title, description, TaskKind.Agent, step.Agent, dependsOn.OrderBy(d => d, TaskIds.Order).ToList()));
                group.Add(id);
            }

            previous = step;
        }

        if (humanTask is not null && !tasks.Any(t => t.DependsOn.Contains(humanTask)))
        {
            // Every step is research: they all need the human's context, or nobody would use it.
            tasks = tasks.Select(t => t.Kind == TaskKind.Agent ? t with { DependsOn = [humanTask, .. t.DependsOn] } : t).ToList();
        }

        return new RunPlan(tasks, Name);
    }

    static PlannedTask ContextTask(string id, IReadOnlyList<string> topics)
    {
        var joined = topics.Count == 1 ? topics[0] : string.Join(", ", topics.Take(topics.Count - 1)) + " and " + topics[^1];
        return new PlannedTask(
            id,
            Title("Provide " + joined),
            "Context only a person can give, needed before the agents that depend on it can start: " + joined + ".",
            TaskKind.Human,
            null,
            [],
            "Before the agents continue, please provide:\n" + string.Join("\n", topics.Select(t => "- " + t)) +
            "\nAnswer in one message; the agents will use your words as given.");
    }

    /// <param name="AfterThen">The goal put "then" before this step: it waits for the step before it.</param>
    sealed record Step(string Text, Stage Stage, string Agent, bool AfterThen = false)
    {
        public string Verb => FirstWord().Match(Text).Value;

        public bool IsDecision => Stage == Stage.Analysis && DecisionVerbs.Contains(Verb);
    }

    /// <summary>Whether a step joins the side-by-side group of the step before it (see the rules above).</summary>
    static bool SideBySide(Step previous, Step step) =>
        !step.AfterThen &&
        ((previous.Stage == Stage.Research && step.Stage == Stage.Research) ||
         (previous.IsDecision && step.IsDecision && !RefersBack().IsMatch(step.Text)));

    /// <summary>
    /// The tasks a step becomes, as (title, description): one, or for a research step that names a count of things,
    /// one per thing up to <see cref="MaxBranches"/> and <paramref name="spare"/> + 1, each covering its share by rank.
    /// </summary>
    static List<(string Title, string Description)> Branches(Step step, int spare)
    {
        var match = step.Stage == Stage.Research ? Counted().Match(step.Text) : Match.Empty;
        var count = match.Success ? Count(match.Groups["count"].Value) : 1;
        var branches = Math.Min(Math.Min(count, MaxBranches), spare + 1);
        if (branches < 2)
        {
            return [(Title(step.Text), Describe(step.Text))];
        }

        var verb = match.Groups["verb"].Value;
        var items = match.Groups["items"].Value.Trim();
        return Enumerable.Range(0, branches).Select(i =>
        {
            // Ranks first..last, spread as evenly as the count allows: 12 in 5 branches is 3, 3, 2, 2, 2.
            var first = i * (count / branches) + Math.Min(i, count % branches) + 1;
            var last = first + count / branches + (i < count % branches ? 1 : 0) - 1;
            var title = $"{verb} {Numbered(items, first, last, count)}";
            var share = first == last ? $"number {first} only" : $"numbers {first} to {last} only";
            return (Title(title), Describe(
                $"{step.Text}, part {i + 1} of {branches} run in parallel: of the {count} {items} that matter most for the goal, " +
                $"ranked by relevance, research {share}; the other parts cover the rest"));
        }).ToList();
    }

    static int Count(string count) => int.TryParse(count, out var n) ? n : NumberWords[count];

    /// <summary>
    /// "competing channels in Europe", 2, 2, 5 → "competing channel 2 of 5 in Europe"; a range keeps the plural
    /// ("competing channels 1–2 of 5 in Europe"), and so does a head noun that is not plainly a plural.
    /// </summary>
    static string Numbered(string items, int first, int last, int count)
    {
        var head = HeadEnd().Match(items) is { Success: true } end ? items[..end.Index] : items;
        var rest = items[head.Length..];
        var space = head.LastIndexOf(' ') + 1;
        var singular = first == last ? Singular(head[space..]) : null;
        return singular is not null ? $"{head[..space]}{singular} {first} of {count}{rest}"
            : first == last ? $"{head} (number {first} of {count}){rest}"
            : $"{head} {first}–{last} of {count}{rest}";
    }

    static string? Singular(string noun)
    {
        bool Ends(string suffix) => noun.EndsWith(suffix, StringComparison.OrdinalIgnoreCase);
        return noun switch
        {
            _ when Ends("yses") => noun[..^2] + "is",
            _ when Ends("ies") && noun.Length > 4 => noun[..^3] + "y",
            _ when Ends("sses") || Ends("shes") || Ends("ches") || Ends("xes") => noun[..^2],
            _ when Ends("s") && !Ends("ss") && !Ends("us") && !Ends("is") => noun[..^1],
            _ => null,
        };
    }

    static List<Step> Steps(string goal, IReadOnlyList<AgentSpec> agents)
    {
        var clauses = WithObjects(Clauses(goal));
        var steps = clauses.Select((c, i) => ToStep(c.Text, i == clauses.Count - 1, agents) with { AfterThen = c.AfterThen }).ToList();
        if (steps.Count >= 2)
        {
            return WithAntecedents(steps);
        }

        // A goal that is one step: give it to each requested agent in turn (research, then analysis, then writing).
        var text = clauses.Count == 1 ? clauses[0].Text : goal.Trim();
        var isResearch = Verbs.TryGetValue(FirstWord().Match(text).Value, out var own) && own == Stage.Research;
        var perAgent = agents
            .Select(a => (Agent: a.Name, Stage: StageOfAgent(a.Name)))
            .OrderBy(a => a.Stage)
            .Select(a => new Step(a.Stage switch
            {
                Stage.Research => isResearch ? Capitalise(text) : "Research what it takes to " + Lower(text),
                Stage.Analysis => isResearch ? "Analyse the findings of the research" : "Choose how to " + Lower(text),
                _ => Capitalise(text),
            }, a.Stage, a.Agent))
            .ToList();
        return perAgent.Count > 0 ? perAgent : steps;
    }

    static List<(string Text, bool AfterThen)> Clauses(string goal)
    {
        var sentences = SentenceBreak().Split(goal.Trim()).Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
        var clauses = new List<(string Text, bool AfterThen)>();
        foreach (var (sentence, index) in sentences.Select((s, i) => (s, i)))
        {
            var parts = SplitClauses(TrimEnd(sentence))
                .Where(p => p.Text.Length > 0)
                .SelectMany(p => SplitOnVerbAnd(p.Text).Select((text, i) => (Text: text, AfterThen: i == 0 && p.AfterThen)))
                .ToList();
            // A leading one-clause sentence followed by a list of steps is the objective, not a step of its own.
            if (index == 0 && parts.Count == 1 && sentences.Count > 1 && sentences.Skip(1).Any(s => ClauseBreak().IsMatch(s)))
            {
                continue;
            }

            clauses.AddRange(parts);
        }

        return clauses.Select(c => (Text: Capitalise(TrimEnd(c.Text)), c.AfterThen)).Where(c => c.Text.Length > 0).ToList();
    }

    /// <summary>A sentence's clauses, each marked when "then" introduced it (", then …", "Then …").</summary>
    static IEnumerable<(string Text, bool AfterThen)> SplitClauses(string sentence)
    {
        var start = 0;
        var afterThen = false;
        foreach (Match separator in ClauseBreak().Matches(sentence))
        {
            yield return Clause(sentence[start..separator.Index], afterThen);
            afterThen = separator.Value.Contains("then", StringComparison.OrdinalIgnoreCase);
            start = separator.Index + separator.Length;
        }

        yield return Clause(sentence[start..], afterThen);

        static (string, bool) Clause(string text, bool afterThen)
        {
            var clause = text.Trim();
            return clause.StartsWith("then ", StringComparison.OrdinalIgnoreCase) ? (clause[5..].Trim(), true) : (clause, afterThen);
        }
    }

    /// <summary>"Research competitors and draft a strategy" is two steps; "Plan and launch X" is one.</summary>
    static IEnumerable<string> SplitOnVerbAnd(string clause)
    {
        var match = VerbAnd().Match(clause);
        if (match.Success && EditVerbs.Contains(match.Groups["verb"].Value) && Verbs.ContainsKey(clause[..match.Index].Trim()))
        {
            // "Write and edit a post": the draft, then its edit, each a task of its own for the same thing.
            var thing = clause[(match.Index + match.Length)..].Trim();
            return [$"{clause[..match.Index].Trim()} {thing}", $"{match.Groups["verb"].Value} {Definite(thing)}"];
        }

        if (match.Success && Verbs.ContainsKey(match.Groups["verb"].Value) && clause[..match.Index].Trim().Contains(' '))
        {
            return [clause[..match.Index].Trim(), clause[(match.Index + match.Length - match.Groups["verb"].Length)..].Trim()];
        }

        return [clause];
    }

    static Step ToStep(string text, bool isLast, IReadOnlyList<AgentSpec> agents)
    {
        var custom = agents.FirstOrDefault(a => AgentCatalog.Find(a.Name) is null &&
                                                text.Contains(a.Name, StringComparison.OrdinalIgnoreCase));
        var verb = FirstWord().Match(text).Value;
        var stage = Verbs.TryGetValue(verb, out var s) ? s : isLast ? Stage.Writing : Stage.Analysis;
        if (verb.Equals("design", StringComparison.OrdinalIgnoreCase) && Technical().IsMatch(text))
        {
            // Designing a system is analysis (components, trade-offs); designing a content plan is writing.
            stage = Stage.Analysis;
        }

        if (custom is not null)
        {
            return new Step(text, stage, custom.Name);
        }

        var agent = AgentPreference[stage].FirstOrDefault(name => agents.Any(a => a.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
                    ?? agents[0].Name;
        // The step's own nature decides how it is scheduled, whoever ends up doing it.
        return new Step(text, stage, agent);
    }

    /// <summary>
    /// A clause that is a bare verb ("Research, write and edit a post") takes its object from the next clause that has
    /// one, so the task says what it works on ("Research facts and sources for a post").
    /// </summary>
    static List<(string Text, bool AfterThen)> WithObjects(List<(string Text, bool AfterThen)> clauses) =>
        clauses.Select((c, i) =>
        {
            if (c.Text.Contains(' ') || !Verbs.TryGetValue(c.Text, out var stage))
            {
                return c;
            }

            var next = clauses.Skip(i + 1).Select(n => n.Text).FirstOrDefault(n => n.Contains(' ') && Verbs.ContainsKey(FirstWord().Match(n).Value));
            if (next is null)
            {
                return c;
            }

            var thing = next[(FirstWord().Match(next).Length + 1)..].Trim();
            return c with { Text = stage == Stage.Research ? $"{c.Text} facts and sources for {thing}" : $"{c.Text} {thing}" };
        }).ToList();

    /// <summary>
    /// "Research 5 competing channels, extract their content patterns": "their" is the channels, and the task says so
    /// ("Extract the channels' content patterns"), since a task is read on its own.
    /// </summary>
    static List<Step> WithAntecedents(List<Step> steps) =>
        steps.Select((step, i) =>
        {
            var their = Their().Match(step.Text);
            var counted = i > 0 && steps[i - 1].Stage == Stage.Research ? Counted().Match(steps[i - 1].Text) : Match.Empty;
            if (!their.Success || !counted.Success)
            {
                return step;
            }

            var items = counted.Groups["items"].Value.Trim();
            var head = HeadEnd().Match(items) is { Success: true } end ? items[..end.Index] : items;
            var noun = head[(head.LastIndexOf(' ') + 1)..];
            return step with { Text = step.Text[..their.Index] + $"the {noun}'" + step.Text[(their.Index + "their".Length)..] };
        }).ToList();

    /// <summary>"a blog post" → "the blog post": the edit works on the thing the draft made.</summary>
    static string Definite(string thing) => IndefiniteArticle().Replace(thing, "the ", 1);

    static Stage StageOfAgent(string agent) => agent.ToLowerInvariant() switch
    {
        "research" => Stage.Research,
        "analyst" => Stage.Analysis,
        _ => Stage.Writing,
    };

    // The goal stays out of the description: human gates match descriptions, and every task would match the goal.
    static string Describe(string text)
    {
        var description = $"{Capitalise(text)}.";
        return description.Length <= MaxDescriptionLength ? description : description[..CutAt(description, MaxDescriptionLength - 1)] + "…";
    }

    static string Title(string text)
    {
        var title = Capitalise(text);
        return title.Length <= 120 ? title : title[..CutAt(title, 117)] + "…";
    }

    /// <summary>Where to shorten a text to at most <paramref name="max"/> characters: the last space, else mid-word.</summary>
    static int CutAt(string text, int max) => text.LastIndexOf(' ', max) is > 0 and var space ? space : max;

    static string TrimEnd(string text) => text.Trim().TrimEnd('.', '!', '?', ';', ',', ':').Trim();

    static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    static string Lower(string text) => text.Length == 0 ? text : char.ToLowerInvariant(text[0]) + text[1..];

    [GeneratedRegex(@"(?<=[.!?])\s+(?=[A-Z0-9])")]
    private static partial Regex SentenceBreak();

    [GeneratedRegex(@"\s*(?:;|,\s*(?:and\s+then|then|and)?|\s+and\s+then\s+|\s+then\s+)\s*", RegexOptions.IgnoreCase)]
    private static partial Regex ClauseBreak();

    [GeneratedRegex(@"\s+and\s+(?<verb>[A-Za-z]+)\b", RegexOptions.IgnoreCase)]
    private static partial Regex VerbAnd();

    [GeneratedRegex(@"^[A-Za-z]+")]
    private static partial Regex FirstWord();

    [GeneratedRegex(@"(?<=^[A-Za-z]+\s)their\b", RegexOptions.IgnoreCase)]
    private static partial Regex Their();

    [GeneratedRegex(@"^(?:an?|the)\s+", RegexOptions.IgnoreCase)]
    private static partial Regex IndefiniteArticle();

    // What a design step designs when it is a system rather than a piece of writing.
    [GeneratedRegex(@"\b(?:system|architecture|schema|api|apis|database|data model|backend|infrastructure|service|services|pipeline|integration|platform)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Technical();

    // A count of 2 to 99 right after the verb, and no other number: "Research the top 5 competing channels".
    [GeneratedRegex(@"^(?<verb>[A-Za-z]+)\s+(?:the\s+)?(?:top\s+)?(?<count>[1-9][0-9]?|two|three|four|five|six|seven|eight|nine|ten)\s+(?<items>[^0-9]+)$", RegexOptions.IgnoreCase)]
    private static partial Regex Counted();

    // Where a noun phrase's head ends: "competing channels| in the AI niche".
    [GeneratedRegex(@"\s+(?:and|or|in|on|for|from|with|that|who|which|of|about|across|to|by|at)\b|,", RegexOptions.IgnoreCase)]
    private static partial Regex HeadEnd();

    [GeneratedRegex(@"\b(?:it|its|them|this|that|these|those)\b", RegexOptions.IgnoreCase)]
    private static partial Regex RefersBack();
}
