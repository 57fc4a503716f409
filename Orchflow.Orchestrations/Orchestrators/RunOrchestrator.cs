using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Activities;
using Orchflow.Domain;
using Orchflow.Models;

namespace Orchflow.Orchestrators;

/// <summary>
/// One run: plan, then start every task whose dependencies are done (agents as parallel activities, humans as
/// named external events), record each transition in the projection, and synthesize the final output.
/// Deterministic: time, ids and waits come from the context only.
/// </summary>
public sealed class RunOrchestrator : TaskOrchestrator<RunInput, RunOutcome>
{
    /// <summary>
    /// Activities are retried for what a new attempt can fix (storage hiccups, a lost worker). Model failures are
    /// not: the model call has already retried what was worth retrying, and a rejected key must not be tried again.
    /// </summary>
    static readonly TaskOptions Retry = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: 3, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2)
    {
        HandleFailure = failure => !failure.IsCausedBy<ModelProviderException>(),
    });

    public override async Task<RunOutcome> RunAsync(TaskOrchestrationContext context, RunInput input)
    {
        var run = new RunProjection(context, input, Retry);
        var humans = new HumanWaits(context, input.Engine.HumanTimeoutSeconds);
        try
        {
            return await RunToEndAsync(context, input, run, humans);
        }
        catch (TaskFailedException e) when (e.TaskName == nameof(ProjectRunActivity))
        {
            // Every other activity's failure is handled where it is awaited. The projection's retries are spent: one
            // last attempt to record the run as failed, so it never shows "running" for a run that has stopped.
            context.CreateReplaySafeLogger<RunOrchestrator>().LogError(
                "Run {RunId}: the projection could not be written: {Cause}", input.RunId, e.FailureDetails.ErrorMessage);
            return await run.FailAsync(RunErrors.ProjectionFailed(e.FailureDetails.ErrorMessage));
        }
        finally
        {
            // On every exit path: a timer left running would keep the ended orchestration alive until it fires.
            humans.CancelTimers();
        }
    }

    static async Task<RunOutcome> RunToEndAsync(TaskOrchestrationContext context, RunInput input, RunProjection run, HumanWaits humans)
    {
        var log = context.CreateReplaySafeLogger<RunOrchestrator>();
        var cancel = context.WaitForExternalEvent<CancelRequest>(RunEvents.Cancel);

        var (outline, ended) = await RunPlanning.PlanAsync(context, input, run, cancel, Retry);
        if (outline is null)
        {
            return ended!;
        }

        log.LogInformation("Run {RunId} planned with {TaskCount} tasks", input.RunId, outline.Tasks.Count);
        var progress = run.Progress = new RunProgress(outline);
        run.Usage = outline.Usage;
        var agents = new Dictionary<Task<AgentTaskResult>, string>();
        // A retried run's tasks may have been answered or sent back before: their next event's round goes on from there.
        var rounds = outline.Tasks.Where(t => t.Round > 0).ToDictionary(t => t.TaskId, t => t.Round);
        var status = RunStatus.Planning;

        while (!progress.AllCompleted)
        {
            var batch = progress.StartReady(agents.Count, input.Engine.MaxParallelTasks);
            if (agents.Count + batch.Agents.Count == 0 && humans.Count + batch.Humans.Count == 0)
            {
                return await run.FailAsync(RunErrors.Stuck(progress.Open()));
            }

            // Running exactly while an agent runs: a run never shows "running" with nothing under way. Agents that start
            // alone record their own start (and the run's); one activity and one orchestrator turn fewer per batch.
            var next = agents.Count + batch.Agents.Count > 0 ? RunStatus.Running : RunStatus.WaitingHuman;
            var transitions = batch.Transitions;
            var agentsRecordStart = input.Engine.AgentsRecordTheirStart && batch.Humans.Count == 0 && batch.Agents.Count > 0;
            if (!agentsRecordStart && (transitions.Count > 0 || next != status) && !await run.ProjectAsync(next, transitions))
            {
                return await run.CancelAsync();
            }

            status = next;
            foreach (var taskId in batch.Humans)
            {
                humans.Add(taskId, rounds.GetValueOrDefault(taskId));
            }

            foreach (var taskId in batch.Agents)
            {
                agents.Add(StartAgent(context, input, taskId, agentsRecordStart ? run.Usage : null), taskId);
            }

            var done = await Task.WhenAny(agents.Keys.Concat(humans.Tasks).Append(cancel));
            if (done == cancel)
            {
                return await run.CancelAsync();
            }

            if (done is Task<AgentTaskResult> agentDone && agents.Remove(agentDone, out var agentTask))
            {
                try
                {
                    run.Usage += (await agentDone).Usage;
                }
                catch (TaskFailedException e)
                {
                    return await run.FailAsync(RunErrors.TaskFailed(agentTask, e.FailureDetails.ErrorMessage), agentTask);
                }

                if (input.Engine.RequireApproval)
                {
                    // The activity left its draft waiting for a human; the run moves on when they accept it.
                    progress.Set(agentTask, TaskState.WaitingHuman);
                    humans.Add(agentTask, rounds.GetValueOrDefault(agentTask));
                }
                else
                {
                    progress.Set(agentTask, TaskState.Completed);
                }

                continue;
            }

            var human = humans.Take(done)!;
            if (done == human.Timeout)
            {
                var seconds = input.Engine.HumanTimeoutSeconds ?? 0;
                return await run.FailAsync(RunErrors.HumanTimedOut(human.TaskId, seconds), human.TaskId);
            }

            if ((await human.Reply).Decision == HumanDecision.Accepted)
            {
                progress.Set(human.TaskId, TaskState.Completed);
                continue;
            }

            var round = rounds[human.TaskId] = rounds.GetValueOrDefault(human.TaskId) + 1;
            if (round > input.Engine.MaxReviewRounds)
            {
                return await run.FailAsync(RunErrors.TooManyReviews(human.TaskId, input.Engine.MaxReviewRounds), human.TaskId);
            }

            // Sent back with feedback: the projection already shows the redo running, as the human's request left it,
            // and the agent starts it again as soon as the parallel bound allows.
            progress.Set(human.TaskId, TaskState.Pending);
        }

        // The last answer may have come from a human: the synthesis is what runs now.
        if (status != RunStatus.Running && !await run.ProjectAsync(RunStatus.Running, []))
        {
            return await run.CancelAsync();
        }

        var synthesis = context.CallActivityAsync<bool>(
            nameof(SynthesizeRunActivity), new SynthesisInput(input.AccountId, input.RunId, run.Usage, input.Attempt), Retry);
        if (await Task.WhenAny(synthesis, cancel) == cancel)
        {
            return await run.CancelAsync();
        }

        try
        {
            return await synthesis ? new RunOutcome(RunStatus.Completed) : new RunOutcome(RunStatus.Cancelled);
        }
        catch (TaskFailedException e)
        {
            return await run.FailAsync($"Synthesis failed: {e.FailureDetails.ErrorMessage}");
        }
    }

    static Task<AgentTaskResult> StartAgent(TaskOrchestrationContext context, RunInput input, string taskId, TokenUsage? recordStart) =>
        context.CallActivityAsync<AgentTaskResult>(
            nameof(ExecuteAgentTaskActivity),
            new AgentTaskInput(input.AccountId, input.RunId, taskId, input.Engine.RequireApproval, input.Attempt, recordStart),
            Retry);
}
