using Orchflow.Domain;

namespace Orchflow.Planning;

/// <summary>
/// Gives the human tasks that ask a run's <c>ask_me_about</c> topics their form: one field per topic, on the first
/// human task that asks it, whoever planned the graph (the run's model, the deterministic planner, or the client).
/// A human task that already has a form keeps it.
/// </summary>
public static class AskForms
{
    public static RunPlan Apply(RunPlan plan, RunDefinition definition) => plan with { Tasks = Apply(plan.Tasks, definition) };

    public static IReadOnlyList<PlannedTask> Apply(IReadOnlyList<PlannedTask> tasks, RunDefinition definition)
    {
        var fields = AskFields.Of(definition);
        if (fields.Count == 0)
        {
            return tasks;
        }

        var humans = tasks.Where(t => t.Kind == TaskKind.Human).ToList();
        var formOf = new Dictionary<string, List<FormField>>();
        foreach (var field in fields)
        {
            // A task whose own form asks the field, or an earlier task, has it already: each field is asked once.
            var asker = humans.FirstOrDefault(h => Asks(h, field));
            if (asker is { InputSchema: null })
            {
                (formOf.TryGetValue(asker.TaskId, out var form) ? form : formOf[asker.TaskId] = []).Add(field.ToFormField());
            }
        }

        return tasks.Select(t => formOf.TryGetValue(t.TaskId, out var form) ? t with { InputSchema = InputSchemas.Write(form) } : t).ToList();
    }

    /// <summary>Whether <paramref name="task"/> asks for <paramref name="field"/>: it names the topic, or its form has the field.</summary>
    public static bool Asks(PlannedTask task, AskField field) =>
        $"{task.Name} {task.Description} {task.Prompt}".Contains(field.Topic, StringComparison.OrdinalIgnoreCase) ||
        (task.InputSchema is { } schema && InputSchemas.Fields(schema).Any(f => f.Name == field.Name));
}
