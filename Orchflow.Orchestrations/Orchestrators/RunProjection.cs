using Microsoft.DurableTask;
using Orchflow.Abstractions;
using Orchflow.Activities;
using Orchflow.Domain;

namespace Orchflow.Orchestrators;

/// <summary>A run's writes to its projection, which every exit path of the orchestrator shares.</summary>
sealed class RunProjection(TaskOrchestrationContext context, RunInput input, TaskOptions retry)
{
    public TokenUsage Usage { get; set; } = TokenUsage.Zero;

    /// <summary>The plan's progress once the run is planned: the open tasks an ending run must close.</summary>
    public RunProgress? Progress { get; set; }

    /// <summary>Records a transition; false when the run had already ended (was cancelled). Throws when the write keeps failing.</summary>
    public Task<bool> ProjectAsync(RunStatus status, IReadOnlyList<TaskTransition> tasks, string? error = null) =>
        context.CallActivityAsync<bool>(
            nameof(ProjectRunActivity),
            new RunTransition(input.AccountId, input.RunId, status, tasks, Usage, error, input.Attempt),
            retry);

    /// <summary>Fails the run: <paramref name="failedTask"/> (if any) failed with the error, every other open task cancelled.</summary>
    public async Task<RunOutcome> FailAsync(string error, string? failedTask = null)
    {
        var tasks = Open().Select(id => id == failedTask
            ? new TaskTransition(id, TaskState.Failed, error)
            : new TaskTransition(id, TaskState.Cancelled)).ToList();
        await ProjectAsync(RunStatus.Failed, tasks, error);
        return new RunOutcome(RunStatus.Failed, error);
    }

    public async Task<RunOutcome> CancelAsync()
    {
        await ProjectAsync(RunStatus.Cancelled, Open().Select(id => new TaskTransition(id, TaskState.Cancelled)).ToList());
        return new RunOutcome(RunStatus.Cancelled);
    }

    IEnumerable<string> Open() => Progress?.Open() ?? [];
}
