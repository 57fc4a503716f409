using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Planning;

namespace Orchflow.Functions.Http;

/// <summary>
/// A plan a client sends (with a new run, or as a reviewer's edit), read field by field and then checked by the same
/// validator as a model's plan; every problem is reported under its <c>plan.tasks[i]…</c> field, all in one 422.
/// </summary>
public static class GivenPlans
{
    const int MaxPromptLength = 4000;

    /// <summary>The plan's tasks, or null with the problems added to <paramref name="v"/>.</summary>
    public static IReadOnlyList<PlannedTask>? Read(PlanRequest request, Validation v, RunDefinition definition)
    {
        if (request.Tasks is null)
        {
            v.Add("plan.tasks", "'plan.tasks' is required: the plan's tasks, T1, T2, … in order.");
            return null;
        }

        if (request.Tasks.Count > PlanValidator.MaxTasks)
        {
            v.Add("plan.tasks", $"A plan has at most {PlanValidator.MaxTasks} tasks (got {request.Tasks.Count}).");
            return null;
        }

        var tasks = new List<PlannedTask>();
        var complete = true;
        foreach (var (task, i) in request.Tasks.Select((t, i) => (t, i)))
        {
            var field = $"plan.tasks[{i}]";
            if (task is null)
            {
                v.Add(field, $"'{field}' must be a task object.");
                complete = false;
                continue;
            }

            var id = v.Text(field + ".task_id", task.TaskId, 8, required: true);
            var name = v.Text(field + ".name", task.Name, PlanValidator.MaxNameLength, required: true);
            var description = v.Text(field + ".description", task.Description, PlanValidator.MaxDescriptionLength, required: false) ?? "";
            var agent = v.Text(field + ".agent", task.Agent, 64, required: false);
            var prompt = v.Text(field + ".prompt", task.Prompt, MaxPromptLength, required: false);
            if (task.Kind is null)
            {
                v.Add(field + ".kind", $"'{field}.kind' is required: \"agent\" or \"human\".");
            }

            var dependsOn = (task.DependsOn ?? []).Select((d, j) => v.Text($"{field}.depends_on[{j}]", d, 8, required: true)).ToList();
            var schema = InputSchema(task, field, v);
            if (id is null || name is null || task.Kind is null || dependsOn.Any(d => d is null))
            {
                complete = false;
                continue;
            }

            tasks.Add(new PlannedTask(id, name, description, task.Kind.Value, string.IsNullOrEmpty(agent) ? null : agent,
                dependsOn.Select(d => d!).ToList(), string.IsNullOrEmpty(prompt) ? null : prompt, schema));
        }

        if (!complete || !v.IsValid)
        {
            return null;
        }

        foreach (var problem in PlanValidator.Check(tasks, definition, Agents.AgentCatalog.Resolve(definition.Agents)))
        {
            v.Add("plan." + problem.Field, problem.Message);
        }

        // The tasks that ask the run's topics get their form here, so a reviewer's edit keeps it as the planner's plan has it.
        return v.IsValid ? AskForms.Apply(tasks, definition) : null;
    }

    /// <summary>A human task's form, checked against the subset; none on an agent task.</summary>
    static string? InputSchema(PlanTaskRequest task, string field, Validation v)
    {
        if (task.InputSchema is null)
        {
            return null;
        }

        if (task.Kind == TaskKind.Agent)
        {
            v.Add(field + ".input_schema", "Only a human task has a form; an agent task takes no input_schema.");
            return null;
        }

        var problems = new List<(string Field, string Message)>();
        var schema = InputSchemas.Read(task.InputSchema, field + ".input_schema", problems);
        foreach (var (at, message) in problems)
        {
            v.Add(at, message);
        }

        return schema;
    }
}
