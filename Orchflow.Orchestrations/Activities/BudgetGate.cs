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
        if (!Spent(run.Budget, run.Usage, run.Tasks, part))
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

    /// <summary>
    /// As <see cref="StopAsync"/>, before a task's next model turn: its run's tokens, then, for a task offered tools, its
    /// tool calls (<see cref="StopsTurn"/>).
    /// </summary>
    public async Task<AgentTaskResult?> StopTurnAsync(AgentTaskInput input, RunRecord run, bool tools) =>
        await StopAsync(input, run, BudgetPart.Tokens, input.TaskId) ??
        (tools ? await StopAsync(input, run, BudgetPart.ToolCalls, input.TaskId) : null);

    /// <summary>Whether a run that used <paramref name="used"/>, its tasks as given, has its budget for <paramref name="part"/> spent.</summary>
    public static bool Spent(RunBudget budget, TokenUsage used, IEnumerable<TaskRecord> tasks, BudgetPart part) =>
        part == BudgetPart.Tokens ? budget.TokensSpent(used) : budget.ToolCallsSpent(RunBudget.CallsMade(tasks));

    /// <summary>Whether the gate stops a task's next model turn: its run's tokens spent, or, for a task offered tools, its tool calls.</summary>
    public static bool StopsTurn(RunBudget budget, TokenUsage used, IEnumerable<TaskRecord> tasks, bool tools) =>
        Spent(budget, used, tasks, BudgetPart.Tokens) || (tools && Spent(budget, used, tasks, BudgetPart.ToolCalls));
}
