using System.Text.RegularExpressions;
using Orchflow.Agents;
using Orchflow.Domain;

namespace Orchflow.Planning;

/// <summary>
/// Plans a run without a model: splits the goal into steps, gives each step to the agent whose work its verb
/// describes, runs research steps side by side, chains the rest, and puts a human task first when the run
/// asks for context. Deterministic: the same request always yields the same plan.
/// </summary>
public static partial class DeterministicPlanner
{
    public const string Name = "deterministic";
    public const int MaxTasks = 20;

    enum Stage
    {
        Research,
        Analysis,
        Writing,
    }

    static readonly Dictionary<string, Stage> Verbs = new(StringComparer.OrdinalIgnoreCase)
    {
        ["research"] = Stage.Research, ["find"] = Stage.Research, ["gather"] = Stage.Research,
        ["collect"] = Stage.Research, ["search"] = Stage.Research, ["investigate"] = Stage.Research,
        ["identify"] = Stage.Research, ["explore"] = Stage.Research, ["survey"] = Stage.Research,
        ["scan"] = Stage.Research, ["discover"] = Stage.Research, ["list"] = Stage.Research,
        ["study"] = Stage.Research, ["source"] = Stage.Research, ["look"] = Stage.Research,
        ["monitor"] = Stage.Research, ["interview"] = Stage.Research, ["scout"] = Stage.Research,

        ["analyze"] = Stage.Analysis, ["analyse"] = Stage.Analysis, ["compare"] = Stage.Analysis,
        ["extract"] = Stage.Analysis, ["evaluate"] = Stage.Analysis, ["assess"] = Stage.Analysis,
        ["define"] = Stage.Analysis, ["decide"] = Stage.Analysis, ["prioritize"] = Stage.Analysis,
        ["prioritise"] = Stage.Analysis, ["estimate"] = Stage.Analysis, ["calculate"] = Stage.Analysis,
        ["review"] = Stage.Analysis, ["rank"] = Stage.Analysis, ["score"] = Stage.Analysis,
        ["segment"] = Stage.Analysis, ["benchmark"] = Stage.Analysis, ["validate"] = Stage.Analysis,
        ["measure"] = Stage.Analysis, ["forecast"] = Stage.Analysis, ["choose"] = Stage.Analysis,
        ["select"] = Stage.Analysis, ["determine"] = Stage.Analysis, ["check"] = Stage.Analysis,
        ["map"] = Stage.Analysis, ["size"] = Stage.Analysis, ["audit"] = Stage.Analysis,

        ["write"] = Stage.Writing, ["draft"] = Stage.Writing, ["propose"] = Stage.Writing,
        ["produce"] = Stage.Writing, ["create"] = Stage.Writing, ["compose"] = Stage.Writing,
        ["summarize"] = Stage.Writing, ["summarise"] = Stage.Writing, ["publish"] = Stage.Writing,
        ["prepare"] = Stage.Writing, ["outline"] = Stage.Writing, ["design"] = Stage.Writing,
        ["plan"] = Stage.Writing, ["document"] = Stage.Writing, ["build"] = Stage.Writing,
        ["craft"] = Stage.Writing, ["recommend"] = Stage.Writing, ["present"] = Stage.Writing,
        ["report"] = Stage.Writing, ["describe"] = Stage.Writing, ["launch"] = Stage.Writing,
    };

    static readonly Dictionary<Stage, string[]> AgentPreference = new()
    {
        [Stage.Research] = ["research", "analyst", "writer"],
        [Stage.Analysis] = ["analyst", "research", "writer"],
        [Stage.Writing] = ["writer", "analyst", "research"],
    };

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

        List<string> previousGroup = [];
        List<string> groupDependencies = [];
        Stage? previousStage = null;
        foreach (var step in steps)
        {
            var id = TaskIds.Of(tasks.Count + 1);
            List<string> dependsOn;
            if (step.Stage == Stage.Research && previousStage == Stage.Research)
            {
                // Consecutive research steps are independent of each other: they run in parallel.
                dependsOn = [.. groupDependencies];
                previousGroup.Add(id);
            }
            else
            {
                dependsOn = [.. previousGroup];
                groupDependencies = dependsOn;
                previousGroup = [id];
            }

            if (humanTask is not null && step.Stage != Stage.Research && !dependsOn.Contains(humanTask))
            {
                dependsOn.Insert(0, humanTask);
            }

            tasks.Add(new PlannedTask(id, Title(step.Text), Describe(step), TaskKind.Agent, step.Agent,
                dependsOn.OrderBy(d => d, TaskIds.Order).ToList()));
            previousStage = step.Stage;
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

    sealed record Step(string Text, Stage Stage, string Agent);

    static List<Step> Steps(string goal, IReadOnlyList<AgentSpec> agents)
    {
        var clauses = Clauses(goal);
        var steps = clauses.Select((c, i) => ToStep(c, i == clauses.Count - 1, agents)).ToList();
        if (steps.Count >= 2)
        {
            return steps;
        }

        // A goal that is one step: give it to each requested agent in turn (research, then analysis, then writing).
        var text = clauses.Count == 1 ? clauses[0] : goal.Trim();
        var perAgent = agents
            .Select(a => (Agent: a.Name, Stage: StageOfAgent(a.Name)))
            .OrderBy(a => a.Stage)
            .Select(a => new Step(a.Stage switch
            {
                Stage.Research => "Research: " + Lower(text),
                Stage.Analysis => "Analyse the findings for: " + Lower(text),
                _ => Capitalise(text),
            }, a.Stage, a.Agent))
            .ToList();
        return perAgent.Count > 0 ? perAgent : steps;
    }

    static List<string> Clauses(string goal)
    {
        var sentences = SentenceBreak().Split(goal.Trim()).Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
        var clauses = new List<string>();
        foreach (var (sentence, index) in sentences.Select((s, i) => (s, i)))
        {
            var parts = ClauseBreak().Split(TrimEnd(sentence)).Select(p => p.Trim()).Where(p => p.Length > 0).ToList();
            parts = parts.SelectMany(SplitOnVerbAnd).ToList();
            // A leading one-clause sentence followed by a list of steps is the objective, not a step of its own.
            if (index == 0 && parts.Count == 1 && sentences.Count > 1 && sentences.Skip(1).Any(s => ClauseBreak().IsMatch(s)))
            {
                continue;
            }

            clauses.AddRange(parts);
        }

        return clauses.Select(c => Capitalise(TrimEnd(c))).Where(c => c.Length > 0).ToList();
    }

    /// <summary>"Research competitors and draft a strategy" is two steps; "Plan and launch X" is one.</summary>
    static IEnumerable<string> SplitOnVerbAnd(string clause)
    {
        var match = VerbAnd().Match(clause);
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
        if (custom is not null)
        {
            return new Step(text, stage, custom.Name);
        }

        var agent = AgentPreference[stage].FirstOrDefault(name => agents.Any(a => a.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
                    ?? agents[0].Name;
        // The step's own nature decides how it is scheduled, whoever ends up doing it.
        return new Step(text, stage, agent);
    }

    static Stage StageOfAgent(string agent) => agent.ToLowerInvariant() switch
    {
        "research" => Stage.Research,
        "analyst" => Stage.Analysis,
        _ => Stage.Writing,
    };

    // The goal stays out of the description: human gates match descriptions, and every task would match the goal.
    static string Describe(Step step) => $"{Capitalise(step.Text)}.";

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
}
