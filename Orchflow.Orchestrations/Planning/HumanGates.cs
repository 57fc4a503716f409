using Orchflow.Domain;

namespace Orchflow.Planning;

/// <summary>Routes planned agent tasks whose name or description mentions a gate to a human instead.</summary>
public static class HumanGates
{
    public static RunPlan Apply(RunPlan plan, IReadOnlyList<string> gates)
    {
        if (gates.Count == 0)
        {
            return plan;
        }

        return plan with
        {
            Tasks = plan.Tasks.Select(task =>
            {
                var gate = gates.FirstOrDefault(g =>
                    task.Name.Contains(g, StringComparison.OrdinalIgnoreCase) ||
                    task.Description.Contains(g, StringComparison.OrdinalIgnoreCase));
                return task.Kind == TaskKind.Human || gate is null
                    ? task
                    : task with
                    {
                        Kind = TaskKind.Human,
                        Agent = null,
                        Prompt = $"This step is reserved for a person (human gate \"{gate}\"): {task.Name}.\n" +
                                 "Do it, or decide it, and reply with the result; the tasks after it will use your answer as given.",
                    };
            }).ToList(),
        };
    }
}
