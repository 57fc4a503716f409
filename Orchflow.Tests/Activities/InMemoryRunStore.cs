using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Tests.Activities;

/// <summary>
/// A run store in memory for the activities' unit tests: every change decided by <see cref="RunTransitions"/> and
/// applied as the table store persists it (outputs and the final output written, usage and states as decided).
/// </summary>
sealed class InMemoryRunStore : IRunStore
{
    // Concurrent: a test may read a run while an activity under test changes it.
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, RunRecord> runs = new();

    /// <summary>What each caller asked, in order: "read", "change", and whether the change landed.</summary>
    public List<string> Calls { get; } = [];

    /// <summary>The event types each change that wrote logged, one list per change.</summary>
    public List<string[]> Logged { get; } = [];

    /// <summary>Called as each change is asked for, before it is decided.</summary>
    public Action? OnChange { get; set; }

    public void Put(RunRecord run) => runs[run.RunId] = run;

    public RunRecord Run(string runId) => runs[runId];

    public Task CreateAsync(RunRecord run, CancellationToken cancellationToken)
    {
        Put(run);
        return Task.CompletedTask;
    }

    public Task<RunRecord?> GetAsync(string accountId, string runId, CancellationToken cancellationToken)
    {
        Calls.Add("read");
        return Task.FromResult(runs.TryGetValue(runId, out var run) && run.AccountId == accountId ? run : null);
    }

    /// <summary>The version each read named (<see cref="GetReachedAsync"/>), in order.</summary>
    public List<long> ReachedAsked { get; } = [];

    /// <summary>A read as any other (this store's copy is never behind), the version it named kept in <see cref="ReachedAsked"/>.</summary>
    public Task<RunRecord?> GetReachedAsync(string accountId, string runId, long reached, CancellationToken cancellationToken)
    {
        ReachedAsked.Add(reached);
        return GetAsync(accountId, runId, cancellationToken);
    }

    public Task<RunRecord?> GetRecentAsync(string accountId, string runId, CancellationToken cancellationToken) => GetAsync(accountId, runId, cancellationToken);

    public Task StartCountingAsync(string accountId, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<RunPage> ListAsync(string accountId, int limit, int offset, CancellationToken cancellationToken) =>
        Task.FromResult(new RunPage(runs.Values.Where(r => r.AccountId == accountId).Skip(offset).Take(limit).ToList(), runs.Count));

    public Task<RunChange?> ChangeAsync(string accountId, string runId, RunDecider decide, CancellationToken cancellationToken)
    {
        OnChange?.Invoke();
        if (!runs.TryGetValue(runId, out var run) || run.AccountId != accountId)
        {
            return Task.FromResult<RunChange?>(null);
        }

        var before = StateOf(run);
        var decision = decide(before, DateTimeOffset.UtcNow);
        Calls.Add(decision.IsRefused ? $"change refused: {decision.Refusal!.Detail}" : decision.Writes ? "change" : "change (nothing to write)");
        if (decision.After is { } after)
        {
            Logged.Add(decision.Events.Select(e => e.Type).ToArray());
            runs[runId] = run = Applied(run, after, decision);
        }

        return Task.FromResult<RunChange?>(new RunChange(before, decision, run));
    }

    static RunState StateOf(RunRecord run) => new()
    {
        RunId = run.RunId,
        AccountId = run.AccountId,
        Status = run.Status,
        Tasks = run.Tasks.Select(t => t with { Output = null, ToolCalls = t.ToolCalls.Select(c => c with { Result = null }).ToList() }).ToList(),
        Usage = run.Usage,
        Error = run.Error,
        PlannedBy = run.PlannedBy,
        Attempt = run.Attempt,
        RequirePlanApproval = run.Definition.RequirePlanApproval,
        AwaitingPlanReview = run.AwaitingPlanReview,
        PlanRound = run.PlanRound,
        PlannedRound = run.PlannedRound,
        PlanApproved = run.PlanApproved,
        Budget = run.Budget,
        AwaitingBudget = run.AwaitingBudget,
    };

    static RunRecord Applied(RunRecord run, RunState after, Decision decision) => run with
    {
        Status = after.Status,
        Usage = after.Usage,
        Error = after.Error,
        PlannedBy = after.PlannedBy,
        Attempt = after.Attempt,
        AwaitingPlanReview = after.AwaitingPlanReview,
        PlanRound = after.PlanRound,
        PlannedRound = after.PlannedRound,
        PlanApproved = after.PlanApproved,
        Budget = after.Budget,
        AwaitingBudget = after.AwaitingBudget,
        Version = run.Version + 1,
        Tasks = after.Tasks.Select(t => t with
        {
            Output = decision.Outputs.TryGetValue(t.TaskId, out var output) ? output : run.Tasks.FirstOrDefault(r => r.TaskId == t.TaskId)?.Output,
            ToolCalls = t.ToolCalls.Select(c => c with
            {
                Result = decision.ToolResults.TryGetValue(c.CallId, out var result)
                    ? result
                    : run.Tasks.FirstOrDefault(r => r.TaskId == t.TaskId)?.ToolCalls.FirstOrDefault(r => r.CallId == c.CallId)?.Result,
            }).ToList(),
        }).ToList(),
        FinalOutput = decision.FinalOutput ?? run.FinalOutput,
    };
}
