using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Orchestrators;
using Orchflow.Planning;
using Orchflow.Telemetry;

namespace Orchflow.Activities;

/// <summary>Plans a run with its model (validated, repaired or replaced by the planner) and writes the plan to the projection.</summary>
public sealed class PlanRunActivity(IRunStore runs, IRunModelFactory models, Planner planner, ILogger<PlanRunActivity> log)
    : TaskActivity<RunRef, PlanOutline?>
{
    public override async Task<PlanOutline?> RunAsync(TaskActivityContext context, RunRef input)
    {
        using var telemetry = OrchflowTelemetry.InRun(input.RunId);
        var run = await runs.GetAsync(input.AccountId, input.RunId, CancellationToken.None)
                  ?? throw new InvalidOperationException($"Run {input.RunId} is not in the projection.");
        if (run.Status.IsTerminal())
        {
            return null;
        }

        if (run.Tasks.Count > 0)
        {
            // An earlier attempt planned and saved before it could report back: keep that plan, never a second one.
            return Outline(run.Tasks.Select(t => new TaskNode(t.TaskId, t.Kind, t.DependsOn)), run.Usage);
        }

        if (!await runs.ApplyAsync(new RunTransition(input.AccountId, input.RunId, RunStatus.Planning, []), CancellationToken.None))
        {
            return null;
        }

        var agents = AgentCatalog.Resolve(run.Definition.Agents);
        var model = await models.ForRunAsync(input.AccountId, run.Definition.ProviderId, CancellationToken.None);
        var (plan, usage, events) = await planner.PlanAsync(model, run.Definition, agents, CancellationToken.None);
        log.LogInformation("Run {RunId} planned by {PlannedBy}: {TaskCount} tasks", input.RunId, plan.PlannedBy, plan.Tasks.Count);

        if (!await runs.SavePlanAsync(input.AccountId, input.RunId, plan, usage, events, CancellationToken.None))
        {
            return null;
        }

        return Outline(plan.Tasks.Select(t => new TaskNode(t.TaskId, t.Kind, t.DependsOn)), usage);
    }

    static PlanOutline Outline(IEnumerable<TaskNode> tasks, TokenUsage usage) => new(tasks.ToList(), usage);
}
