using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Tests.Infrastructure;

/// <summary>The changes the engine and its clients make, as the store tests drive them: each decided by <see cref="RunTransitions"/>.</summary>
static class StoreChanges
{
    public static Task<RunChange?> BeginPlanningAsync(this IRunStore runs, string accountId, string runId, int attempt = 0) =>
        runs.ChangeAsync(accountId, runId, (run, _) => RunTransitions.BeginPlanning(run, attempt), CancellationToken.None);

    public static Task<RunChange?> SavePlanAsync(
        this IRunStore runs, string accountId, string runId, RunPlan plan, bool awaitReview = false, int attempt = 0, int round = 0, TokenUsage? usage = null) =>
        runs.ChangeAsync(accountId, runId,
            (run, _) => RunTransitions.SavePlan(run, new PlanSave(attempt, round, plan, usage ?? TokenUsage.Zero, [], awaitReview)), CancellationToken.None);

    public static Task<RunChange?> StartAsync(this IRunStore runs, string accountId, string runId, string[] humans, string[] agents, int attempt = 0) =>
        runs.ChangeAsync(accountId, runId, (run, now) => RunTransitions.StartTasks(run, attempt, humans, agents, now), CancellationToken.None);

    public static Task<RunChange?> FinishAsync(
        this IRunStore runs, string accountId, string runId, string taskId, string output, bool awaitApproval = false, TokenUsage? usage = null, int attempt = 0) =>
        runs.ChangeAsync(accountId, runId,
            (run, now) => RunTransitions.FinishAgent(run, attempt, taskId, new AgentResult(output, usage ?? TokenUsage.Zero, awaitApproval), now),
            CancellationToken.None);

    public static Task<RunChange?> AnswerAsync(this IRunStore runs, string accountId, string runId, string taskId, HumanAnswer answer) =>
        runs.ChangeAsync(accountId, runId, (run, now) => RunTransitions.Answer(run, taskId, answer, now), CancellationToken.None);

    public static Task<RunChange?> FailAsync(this IRunStore runs, string accountId, string runId, string error, string? taskId = null, int attempt = 0) =>
        runs.ChangeAsync(accountId, runId, (run, now) => RunTransitions.Fail(run, attempt, error, taskId, now), CancellationToken.None);

    public static Task<RunChange?> CancelAsync(this IRunStore runs, string accountId, string runId) =>
        runs.ChangeAsync(accountId, runId, (run, now) => RunTransitions.Cancel(run, now), CancellationToken.None);

    public static Task<RunChange?> CompleteAsync(this IRunStore runs, string accountId, string runId, string finalOutput, TokenUsage? usage = null, int attempt = 0) =>
        runs.ChangeAsync(accountId, runId, (run, _) => RunTransitions.Complete(run, attempt, finalOutput, usage ?? TokenUsage.Zero), CancellationToken.None);
}
