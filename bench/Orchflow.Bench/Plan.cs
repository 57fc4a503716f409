namespace Orchflow.Bench;

/// <summary>One task of a plan's graph: its id, whether an agent (a model call) does it, and what it waits for.</summary>
public sealed record PlanNode(string Id, bool IsAgent, IReadOnlyList<string> DependsOn);

public static class Plan
{
    /// <summary>The most agent tasks on one chain of dependencies (the graph is acyclic: the planner validates it).</summary>
    public static int CriticalPath(IEnumerable<PlanNode> nodes)
    {
        var byId = nodes.ToDictionary(n => n.Id);
        var depth = new Dictionary<string, int>();
        int Depth(PlanNode node)
        {
            if (!depth.TryGetValue(node.Id, out var d))
            {
                d = (node.IsAgent ? 1 : 0) + node.DependsOn.Select(id => Depth(byId[id])).DefaultIfEmpty(0).Max();
                depth[node.Id] = d;
            }

            return d;
        }

        return byId.Values.Select(Depth).DefaultIfEmpty(0).Max();
    }

    /// <summary>"T1, T2, T3 → T4 → T5 → T6": the graph by levels, for the report.</summary>
    public static string Describe(IReadOnlyList<PlanNode> nodes)
    {
        var level = new Dictionary<string, int>();
        int Level(PlanNode node) => level.TryGetValue(node.Id, out var l)
            ? l
            : level[node.Id] = node.DependsOn.Select(id => Level(nodes.Single(n => n.Id == id)) + 1).DefaultIfEmpty(0).Max();
        return string.Join(" → ", nodes.GroupBy(Level).OrderBy(g => g.Key).Select(g => string.Join(" ∥ ", g.Select(n => n.Id))));
    }
}
