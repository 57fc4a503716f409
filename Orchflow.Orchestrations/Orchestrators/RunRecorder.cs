using Microsoft.DurableTask;
using Orchflow.Domain;

namespace Orchflow.Orchestrators;

/// <summary>The changes an orchestration records about its run, which every exit path of the orchestrator shares.</summary>
sealed class RunRecorder(TaskOrchestrationContext context, RunInput input)
{
    /// <summary>A batch of ready tasks starts: human tasks wait for their person, agent tasks run. False when the run had ended.</summary>
    public Task<bool> StartAsync(StartBatch batch) =>
        context.RecordAsync(Request(RunChangeKind.StartTasks) with { Humans = batch.Humans, Agents = batch.Agents });

    /// <summary>Fails the run: <paramref name="failedTask"/> (if any) failed with the error, every other open task cancelled.</summary>
    public async Task<RunOutcome> FailAsync(string error, string? failedTask = null)
    {
        await context.RecordAsync(Request(RunChangeKind.Fail) with { Error = error, TaskId = failedTask });
        return new RunOutcome(RunStatus.Failed, error);
    }

    /// <summary>A human task (or a draft) went unanswered for the run's human timeout.</summary>
    public async Task<RunOutcome> TimeOutAsync(string taskId, int seconds)
    {
        await context.RecordAsync(Request(RunChangeKind.TimeOut) with { TaskId = taskId, Seconds = seconds });
        return new RunOutcome(RunStatus.Failed, RunErrors.HumanTimedOut(taskId, seconds));
    }

    public async Task<RunOutcome> CancelAsync()
    {
        await context.RecordAsync(Request(RunChangeKind.Cancel));
        return new RunOutcome(RunStatus.Cancelled);
    }

    RunChangeRequest Request(RunChangeKind kind) => new(input.AccountId, input.RunId, input.Attempt, kind);
}
