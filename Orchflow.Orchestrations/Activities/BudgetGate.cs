using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Orchestrators;

namespace Orchflow.Activities;

/// <summary>
/// The check an activity makes before each model or tool call: with the run's budget for it spent, the call is not made,
/// its task waits to start again and the run waits for a person to raise the budget.
/// </summary>
sealed class BudgetGate(IRunStore runs)
{
    /// <summary>
    /// Null when the run, as last read, has budget left for a call spending <paramref name="part"/> (or a person raised it
    /// since); else what the activity reports: the task paused on the budget (or stopped, when the run moved on).
    /// </summary>
    public async Task<AgentTaskResult?> StopAsync(AgentTaskInput input, RunRecord run, BudgetPart part, string? taskId)
    {
        var spent = part == BudgetPart.Tokens ? run.Budget.TokensSpent(run.Usage) : run.Budget.ToolCallsSpent(RunBudget.CallsMade(run.Tasks));
        if (!spent)
        {
            return null;
        }

        var paused = await runs.ChangeAsync(input.AccountId, input.RunId,
            (state, _) => RunTransitions.PauseForBudget(state, input.Attempt, taskId, part), CancellationToken.None);
        return paused switch
        {
            null or { Refusal: not null } => new AgentTaskResult(Recorded: false),
            { Decision.Writes: false } => null,
            _ => new AgentTaskResult(Recorded: true, PausedOnBudget: paused.Before.BudgetRound, Version: paused.Run.Version),
        };
    }
}
