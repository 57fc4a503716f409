namespace Orchflow.Domain;

/// <summary>
/// A run's budget: a call the run has no budget left for is not made; its task goes back to pending and the run waits for
/// a person to raise the budget (or cancel it). Raised, the run goes on: the tasks it stopped start again.
/// </summary>
public static partial class RunTransitions
{
    /// <summary>
    /// A call of <paramref name="taskId"/> (the synthesis: null) is not made, the run's <paramref name="spent"/> used up:
    /// the task waits to start again, and the run waits on its budget; announced once, when the run starts waiting on
    /// it. Changes nothing when, as the run stands now, that part of the budget is not spent (a person raised it).
    /// </summary>
    public static Decision PauseForBudget(RunState run, int attempt, string? taskId, BudgetPart spent)
    {
        if (Stale(run, attempt) is { } stale)
        {
            return stale;
        }

        if (spent == BudgetPart.Tokens ? !run.Budget.TokensSpent(run.Usage) : !run.Budget.ToolCallsSpent(run.ToolCallsMade))
        {
            return Decision.Unchanged;
        }

        var tasks = run.Tasks.Select(t => t.TaskId == taskId && t.State == TaskState.Running ? t with { State = TaskState.Pending } : t).ToList();
        var after = run with { Tasks = tasks, AwaitingBudget = true };
        return Change(run, after, run.AwaitingBudget ? [] : [RunLog.BudgetReached(run)]);
    }

    /// <summary>
    /// A person raises the run's budget (each limit given replaces its own). A run that waited on it goes on when what it
    /// has used is within both limits again; otherwise it waits still. Refused (409) once the run has ended, and (422) past
    /// what a managed run may spend when <paramref name="trialTokens"/> is given.
    /// </summary>
    public static Decision RaiseBudget(RunState run, RunBudget raise, long? trialTokens = null)
    {
        if (run.Status.IsTerminal())
        {
            return Decision.Refused(RefusalKind.Conflict, $"Run {run.RunId} is {run.Status.ToWire()}; its budget can no longer be raised.");
        }

        if (raise.MaxTokens < run.Budget.MaxTokens)
        {
            return Decision.Refused(RefusalKind.Invalid, $"A budget can only be raised: the run's 'max_tokens' is {run.Budget.MaxTokens}.", "max_tokens");
        }

        if (trialTokens is { } trial && raise.MaxTokens > RunBudget.TrialCeiling(run.Attempt, trial))
        {
            return Decision.Refused(RefusalKind.Invalid,
                $"A managed run may spend at most {trial} tokens an attempt, {RunBudget.TrialCeiling(run.Attempt, trial)} by this one: " +
                "register a provider of your own to spend more.", "max_tokens");
        }

        if (raise.MaxToolCalls < run.Budget.MaxToolCalls)
        {
            return Decision.Refused(RefusalKind.Invalid, $"A budget can only be raised: the run's 'max_tool_calls' is {run.Budget.MaxToolCalls}.", "max_tool_calls");
        }

        var budget = run.Budget.With(raise);
        var within = !budget.TokensSpent(run.Usage) && !budget.ToolCallsSpent(run.ToolCallsMade);
        var goesOn = run.AwaitingBudget && within;
        var after = run with
        {
            Budget = budget,
            AwaitingBudget = run.AwaitingBudget && !within,
            BudgetRound = goesOn ? run.BudgetRound + 1 : run.BudgetRound,
        };
        return Change(run, after, [RunLog.BudgetRaised(budget, waiting: after.AwaitingBudget)]);
    }

    /// <summary>
    /// The raise that let the run go on in <paramref name="round"/> never reached it: the run waits on its budget again,
    /// so the person can raise it again. Changes nothing once the run moved past that round or ended.
    /// </summary>
    public static Decision ReopenBudget(RunState run, int round) =>
        run.Status.IsTerminal() || run.AwaitingBudget || run.BudgetRound != round + 1
            ? Decision.Unchanged
            : Change(run, run with { AwaitingBudget = true, BudgetRound = round }, [RunLog.BudgetReached(run)]);
}

/// <summary>What of a run's budget a call would spend.</summary>
public enum BudgetPart
{
    Tokens,
    ToolCalls,
}
