using Microsoft.DurableTask;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Live;
using Orchflow.Orchestrators;
using Orchflow.Telemetry;

namespace Orchflow.Activities;

/// <summary>Writes the run's final output from every task's result (watchers see it as it is written) and completes the run.</summary>
public sealed class SynthesizeRunActivity(IRunStore runs, IRunModelFactory models, LiveOutputs live) : TaskActivity<SynthesisInput, SynthesisResult>
{
    public override async Task<SynthesisResult> RunAsync(TaskActivityContext context, SynthesisInput input)
    {
        using var telemetry = OrchflowTelemetry.InRun(input.RunId);
        var run = await runs.GetAsync(input.AccountId, input.RunId, CancellationToken.None)
                  ?? throw new InvalidOperationException($"Run {input.RunId} is not in the projection.");
        if (run.Status.IsTerminal() || run.Attempt != input.Attempt)
        {
            return new SynthesisResult(run.Status == RunStatus.Completed && run.Attempt == input.Attempt);
        }

        // A retried run whose tasks had all completed goes from planning to its synthesis.
        if (run.Status != RunStatus.Running &&
            await runs.ChangeAsync(input.AccountId, input.RunId, (state, _) => RunTransitions.BeginSynthesis(state, input.Attempt), CancellationToken.None)
                is not { Refusal: null })
        {
            return new SynthesisResult(Completed: false);
        }

        if (run.Budget.TokensSpent(run.Usage))
        {
            var paused = await runs.ChangeAsync(input.AccountId, input.RunId,
                (state, _) => RunTransitions.PauseForBudget(state, input.Attempt, taskId: null, BudgetPart.Tokens), CancellationToken.None);
            if (paused is { Refusal: null, Decision.Writes: true })
            {
                return new SynthesisResult(Completed: false, PausedOnBudget: paused.Before.BudgetRound);
            }
        }

        var results = run.Tasks
            .Where(t => t.State == TaskState.Completed && t.Output is not null)
            .Select(t => new TaskInput(t.TaskId, t.Name, t.Kind, t.Output!))
            .ToList();
        var model = await models.ForRunAsync(input.AccountId, run.Definition.ProviderId, CancellationToken.None);
        await using var writing = live.Open(input.RunId, taskId: null);
        var reply = await model.SynthesizeAsync(new SynthesisRequest(run.Definition.Goal, results) { Output = writing }, CancellationToken.None);
        var completed = await runs.ChangeAsync(input.AccountId, input.RunId,
            (state, _) => RunTransitions.Complete(state, input.Attempt, reply.Value, reply.Usage), CancellationToken.None);
        return new SynthesisResult(completed is { Refusal: null });
    }
}
