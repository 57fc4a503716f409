using Orchflow.Domain;

namespace Orchflow.Orchestrators;

/// <summary>The orchestrator's view of its plan: each task's state and which tasks may start. Pure, replay-safe.</summary>
public sealed class RunProgress(PlanOutline outline)
{
    /// <summary>Every task pending, but those a retried run had completed, which are not run again.</summary>
    readonly Dictionary<string, TaskState> states = outline.Tasks.ToDictionary(
        t => t.TaskId, t => t.State == TaskState.Completed ? TaskState.Completed : TaskState.Pending);

    public IReadOnlyList<TaskNode> Tasks => outline.Tasks;

    public TaskState this[string taskId] => states[taskId];

    public bool AllCompleted => states.Values.All(s => s == TaskState.Completed);

    /// <summary>Pending tasks whose dependencies are all completed, in plan order.</summary>
    public IEnumerable<TaskNode> Ready() =>
        outline.Tasks.Where(t => states[t.TaskId] == TaskState.Pending &&
                                 t.DependsOn.All(d => states.GetValueOrDefault(d) == TaskState.Completed));

    public IEnumerable<string> Open() => states.Where(s => !s.Value.IsTerminal()).Select(s => s.Key);

    public void Set(string taskId, TaskState state) => states[taskId] = state;

    /// <summary>
    /// Moves every ready task on, in plan order: human tasks to waiting, agent tasks to running while fewer than
    /// <paramref name="maxParallel"/> agents run (counting <paramref name="agentsRunning"/>); the rest stay pending.
    /// </summary>
    public StartBatch StartReady(int agentsRunning, int maxParallel)
    {
        var humans = new List<string>();
        var agents = new List<string>();
        foreach (var task in Ready().ToList())
        {
            if (task.Kind == TaskKind.Human)
            {
                humans.Add(task.TaskId);
                Set(task.TaskId, TaskState.WaitingHuman);
            }
            else if (agentsRunning + agents.Count < maxParallel)
            {
                agents.Add(task.TaskId);
                Set(task.TaskId, TaskState.Running);
            }
        }

        return new StartBatch(humans, agents);
    }
}

/// <summary>What one scheduling turn starts: human waits and agent activities.</summary>
public sealed record StartBatch(IReadOnlyList<string> Humans, IReadOnlyList<string> Agents)
{
    public static readonly StartBatch None = new([], []);
}
