namespace Orchflow.Planning;

// The words the deterministic planner reads a goal by: verbs by stage, decisions, edits and counts.
public static partial class DeterministicPlanner
{
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
        ["edit"] = Stage.Writing, ["revise"] = Stage.Writing, ["proofread"] = Stage.Writing, ["polish"] = Stage.Writing,
        ["architect"] = Stage.Analysis,
    };

    /// <summary>Verbs that rework what the verb before them made: "write and edit X" is two tasks, the edit after the writing.</summary>
    static readonly HashSet<string> EditVerbs = new(StringComparer.OrdinalIgnoreCase) { "edit", "revise", "proofread", "polish", "review" };

    /// <summary>Analysis verbs that commit to a choice: independent decisions drawn from the same analysis run side by side.</summary>
    static readonly HashSet<string> DecisionVerbs = new(StringComparer.OrdinalIgnoreCase)
    {
        "define", "decide", "choose", "select", "determine", "prioritize", "prioritise",
    };

    static readonly Dictionary<string, int> NumberWords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["two"] = 2, ["three"] = 3, ["four"] = 4, ["five"] = 5, ["six"] = 6, ["seven"] = 7, ["eight"] = 8, ["nine"] = 9, ["ten"] = 10,
    };
}
