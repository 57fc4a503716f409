using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Orchestrators;
using Orchflow.Planning;
using Orchflow.Telemetry;

namespace Orchflow.Activities;

/// <summary>
/// Gives a run its plan and writes it to the projection: the client's own plan as given, or one from the run's model
/// (validated, repaired or replaced by the planner), planned again with a reviewer's feedback when the last one was
/// sent back. A run that has its plan already (a retried run, or this activity run twice) keeps it. The run shows planning
/// while the model plans (<see cref="CallUnderway{T}"/>); a plan that needs no model, or comes within the call's grace,
/// is saved in the same batch that announces planning.
/// </summary>
public sealed class PlanRunActivity(IRunStore runs, IRunModelFactory models, Planner planner, TimeProvider clock, ILogger<PlanRunActivity> log)
    : TaskActivity<PlanInput, PlanOutline?>
{
    public override async Task<PlanOutline?> RunAsync(TaskActivityContext context, PlanInput input)
    {
        using var telemetry = OrchflowTelemetry.InRun(input.RunId);
        var run = await runs.GetAsync(input.AccountId, input.RunId, CancellationToken.None)
                  ?? throw new InvalidOperationException($"Run {input.RunId} is not in the projection.");
        if (run.Status.IsTerminal() || run.Attempt != input.Attempt)
        {
            return null;
        }

        if (run.Tasks.Count > 0 && run.PlannedRound >= input.Round)
        {
            return Outline(run);
        }

        // Planning is announced while the model plans, or with the plan when it answers within the call's grace; null
        // when the run shows planning already.
        RunDecider? announce = run.Status == RunStatus.Planning ? null : (state, _) => RunTransitions.BeginPlanning(state, input.Attempt);
        var definition = run.Definition;
        var agents = AgentCatalog.Resolve(definition.Agents);
        PlanResult planned;
        // The plan's change, with the announcement first when it is still to be recorded.
        Func<RunDecider, RunDecider> withStart = change => announce?.Then(change) ?? change;
        if (definition.Plan is { } given && input.Feedback is null)
        {
            // The client's own plan, validated when the run was started: no model is asked.
            var plan = HumanGates.Apply(new RunPlan(given, RunPlan.ByUser), definition.HumanGates);
            planned = new PlanResult(plan, TokenUsage.Zero, [planner.NoteOf(plan)]);
        }
        else
        {
            var review = input.Feedback is null ? null : new PlanFeedback(PlanJson.Serialize(new RunPlan(run.Tasks.Select(Planned).ToList(), run.PlannedBy ?? "")), input.Feedback);
            var call = new CallUnderway<PlanResult>(runs, input.AccountId, input.RunId, announce,
                async (_, stop) =>
                    await planner.PlanAsync(await models.ForRunAsync(input.AccountId, definition.ProviderId, CancellationToken.None), definition, agents, stop, review),
                clock, log);
            if (await call.StartDueAsync() && await call.RecordStartAsync() is not { Refusal: null })
            {
                return null;
            }

            planned = await call.AnswerAsync();
            withStart = call.WithStart;
        }

        log.LogInformation("Run {RunId} planned by {PlannedBy}: {TaskCount} tasks (review round {Round})",
            input.RunId, planned.Plan.PlannedBy, planned.Plan.Tasks.Count, input.Round);
        // Notes are keyed within the run: a later review round's notes sit beside the first round's instead of replacing them.
        var notes = input.Round == 0 ? planned.Events : planned.Events.Select(e => e with { Key = $"round{input.Round}-{e.Key}" }).ToList();
        var save = new PlanSave(input.Attempt, input.Round, planned.Plan, planned.Usage, notes, AwaitReview: definition.RequirePlanApproval);
        var saved = await runs.ChangeAsync(input.AccountId, input.RunId, withStart((state, _) => RunTransitions.SavePlan(state, save)), CancellationToken.None);
        return saved is { Refusal: null } ? Outline(saved.Run) : null;
    }

    /// <summary>The plan as the projection holds it: where each task stands, and whether a person must review it first.</summary>
    static PlanOutline Outline(RunRecord run) => new(
        run.Tasks.Select(t => new TaskNode(t.TaskId, t.Kind, t.DependsOn, t.State, t.ReviewRound)).ToList(),
        run.Usage,
        NeedsReview: run.Definition.RequirePlanApproval && !run.PlanApproved,
        ReviewRound: run.PlanRound,
        Version: run.Version);

    static PlannedTask Planned(TaskRecord t) => new(t.TaskId, t.Name, t.Description, t.Kind, t.Agent, t.DependsOn, t.Prompt);
}
