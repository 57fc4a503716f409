using Orchflow.Domain;

namespace Orchflow.Planning;

/// <summary>One thing wrong with a plan: where (<c>tasks</c>, <c>tasks[2].depends_on</c>…) and what, said so a model can fix it.</summary>
public sealed record PlanProblem(string Field, string Message);

/// <summary>
/// Checks a plan before anything runs: the rules a plan must meet, whether a model or a client wrote it, stated so a
/// model can fix them and located so a client can.
/// </summary>
public static class PlanValidator
{
    public const int MaxTasks = 20;
    public const int MaxNameLength = 200;
    public const int MaxDescriptionLength = 2000;

    public static IReadOnlyList<string> Validate(IReadOnlyList<PlannedTask> tasks, RunDefinition definition, IReadOnlyList<AgentSpec> agents) =>
        Check(tasks, definition, agents).Select(p => p.Message).ToList();

    public static IReadOnlyList<PlanProblem> Check(IReadOnlyList<PlannedTask> tasks, RunDefinition definition, IReadOnlyList<AgentSpec> agents)
    {
        var errors = new List<PlanProblem>();
        if (tasks.Count is 0 or > MaxTasks)
        {
            errors.Add(new("tasks", $"The plan has {tasks.Count} tasks; it must have 1 to {MaxTasks}."));
            return errors;
        }

        var expectedIds = Enumerable.Range(1, tasks.Count).Select(TaskIds.Of).ToList();
        if (!tasks.Select(t => t.TaskId).SequenceEqual(expectedIds))
        {
            var first = tasks.Select((t, i) => (t, i)).First(x => x.t.TaskId != expectedIds[x.i]).i;
            errors.Add(new($"tasks[{first}].task_id", $"Task ids must be {string.Join(", ", expectedIds)} in that order."));
        }

        var duplicates = tasks.GroupBy(t => t.TaskId).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        foreach (var id in duplicates)
        {
            errors.Add(new($"tasks[{LastIndexOf(tasks, id)}].task_id", $"{id} is the id of more than one task; each task needs its own id."));
        }

        var ids = tasks.Select(t => t.TaskId).ToHashSet();
        var agentNames = agents.Select(a => a.Name).ToList();
        var graphIsSound = duplicates.Count == 0;
        foreach (var (task, i) in tasks.Select((t, i) => (t, i)))
        {
            var at = $"tasks[{i}]";
            if (task.Name.Length > MaxNameLength)
            {
                errors.Add(new($"{at}.name", $"{task.TaskId}: the name is {task.Name.Length} characters long; it must be at most {MaxNameLength}."));
            }

            if (task.Description.Length > MaxDescriptionLength)
            {
                errors.Add(new($"{at}.description", $"{task.TaskId}: the description is {task.Description.Length} characters long; it must be at most {MaxDescriptionLength}."));
            }

            if (task.Kind == TaskKind.Agent && string.IsNullOrWhiteSpace(task.Agent))
            {
                errors.Add(new($"{at}.agent", $"{task.TaskId} is an agent task without an agent; use one of: {string.Join(", ", agentNames)}."));
            }
            else if (task.Kind == TaskKind.Agent && !agentNames.Contains(task.Agent!, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add(new($"{at}.agent", $"{task.TaskId} uses agent \"{task.Agent}\", which this run does not have; use one of: {string.Join(", ", agentNames)}."));
            }

            if (task.Kind == TaskKind.Human && string.IsNullOrWhiteSpace(task.Prompt))
            {
                errors.Add(new($"{at}.prompt", $"{task.TaskId} is a human task without a prompt telling the person what is needed."));
            }

            foreach (var dependency in task.DependsOn.Where(d => !ids.Contains(d)))
            {
                errors.Add(new($"{at}.depends_on", $"{task.TaskId} depends on {dependency}, which is not in the plan."));
                graphIsSound = false;
            }

            if (task.DependsOn.Contains(task.TaskId))
            {
                errors.Add(new($"{at}.depends_on", $"{task.TaskId} depends on itself."));
                graphIsSound = false;
            }
        }

        // Cycles and topic coverage are reported with the other problems, since the model gets only one repair,
        // but only on a graph where every id names one task and every dependency exists.
        if (graphIsSound)
        {
            if (FindCycle(tasks) is { } cycle)
            {
                errors.Add(new($"tasks[{IndexOf(tasks, cycle[0])}].depends_on", $"The dependencies form a cycle: {string.Join(" → ", cycle)}."));
            }
            else
            {
                errors.AddRange(UncoveredTopics(tasks, AskFields.Of(definition)));
            }
        }

        return errors;
    }

    static int IndexOf(IReadOnlyList<PlannedTask> tasks, string id) => tasks.Select((t, i) => (t, i)).First(x => x.t.TaskId == id).i;

    static int LastIndexOf(IReadOnlyList<PlannedTask> tasks, string id) => tasks.Select((t, i) => (t, i)).Last(x => x.t.TaskId == id).i;

    /// <summary>
    /// Every ask_me_about topic must be asked by a human task, and the deliverable (every agent task no other agent
    /// task builds on, even through a human step) must depend on that task, so the answer reaches the output
    /// instead of being guessed past.
    /// </summary>
    static IEnumerable<PlanProblem> UncoveredTopics(IReadOnlyList<PlannedTask> tasks, IReadOnlyList<AskField> fields)
    {
        var byId = tasks.ToDictionary(t => t.TaskId);
        var humans = tasks.Where(t => t.Kind == TaskKind.Human).ToList();
        var agentTasks = tasks.Where(t => t.Kind == TaskKind.Agent).ToList();
        var sinks = agentTasks.Where(t => !agentTasks.Any(o => DependsOn(o, t.TaskId, byId))).ToList();
        foreach (var field in fields)
        {
            var topic = field.Topic;
            var askers = humans.Where(h => AskForms.Asks(h, field)).ToList();
            if (askers.Count == 0)
            {
                yield return new("tasks", $"No human task asks for \"{topic}\"; add one (kind \"human\") whose prompt asks for it.");
                continue;
            }

            foreach (var sink in sinks.Where(s => !askers.Any(a => DependsOn(s, a.TaskId, byId))))
            {
                yield return new($"tasks[{IndexOf(tasks, sink.TaskId)}].depends_on",
                    $"{sink.TaskId} must depend (directly or through other tasks) on the human task that asks for \"{topic}\".");
            }
        }
    }

    static bool DependsOn(PlannedTask task, string ancestor, IReadOnlyDictionary<string, PlannedTask> byId)
    {
        var seen = new HashSet<string>();
        var stack = new Stack<string>(task.DependsOn);
        while (stack.TryPop(out var id))
        {
            if (id == ancestor)
            {
                return true;
            }

            if (seen.Add(id) && byId.TryGetValue(id, out var next))
            {
                foreach (var d in next.DependsOn)
                {
                    stack.Push(d);
                }
            }
        }

        return false;
    }

    /// <summary>A dependency cycle as a path of task ids, or null; depth-first with colours.</summary>
    static List<string>? FindCycle(IReadOnlyList<PlannedTask> tasks)
    {
        var byId = tasks.ToDictionary(t => t.TaskId);
        var state = new Dictionary<string, int>(); // 1 on the current path, 2 done
        var path = new List<string>();

        List<string>? Visit(string id)
        {
            state[id] = 1;
            path.Add(id);
            foreach (var d in byId[id].DependsOn)
            {
                if (state.GetValueOrDefault(d) == 1)
                {
                    return [.. path[path.IndexOf(d)..], d];
                }

                if (state.GetValueOrDefault(d) == 0 && Visit(d) is { } found)
                {
                    return found;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[id] = 2;
            return null;
        }

        return tasks.Select(t => state.GetValueOrDefault(t.TaskId) == 0 ? Visit(t.TaskId) : null).FirstOrDefault(c => c is not null);
    }
}
