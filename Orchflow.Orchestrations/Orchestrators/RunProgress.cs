using Orchflow.Domain;

namespace Orchflow.Orchestrators;

/// <summary>The orchestrator's view of its plan: each task's state and which tasks may start. Pure, replay-safe.</summary>
public sealed class RunProgress(PlanOutline outline)
{
    readonly Dictionary<string, TaskState> states = outline.Tasks.ToDictionary(t => t.TaskId, _ => TaskState.Pending);

    public IReadOnlyList<TaskNode> Tasks => outline.Tasks;

    public TaskState this[string taskId] => states[taskId];

    public bool AllCompleted => states.Values.All(s => s == TaskState.Completed);

    /// <summary>Pending tasks whose dependencies are all completed, in plan order.</summary>
    public IEnumerable<TaskNode> Ready() =>
        outline.Tasks.Where(t => states[t.TaskId] == TaskState.Pending &&
                                 t.DependsOn.All(d => states.GetValueOrDefault(d) == TaskState.Completed));

    public IEnumerable<string> Open() => states.Where(s => !s.Value.IsTerminal()).Select(s => s.Key);

    public void Set(string taskId, TaskState state) => states[taskId] = state;
}
