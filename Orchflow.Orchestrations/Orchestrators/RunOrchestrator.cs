using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Orchflow.Activities;
using Orchflow.Domain;

namespace Orchflow.Orchestrators;

/// <summary>
/// One run: plan, then start every task whose dependencies are done (agents as parallel activities, humans as
/// named external events), and synthesize the final output. It schedules; what each change does to the run is
/// decided by <see cref="RunTransitions"/> where the change is recorded. Deterministic: time, ids and waits come from
/// the context only.
/// </summary>
public sealed class RunOrchestrator : TaskOrchestrator<RunInput, RunOutcome>
{
    public override async Task<RunOutcome> RunAsync(TaskOrchestrationContext context, RunInput input)
    {
        var run = new RunRecorder(context, input);
        var humans = new HumanWaits(context, input.Engine.HumanTimeoutSeconds);
        try
        {
            return await RunToEndAsync(context, input, run, humans);
        }
        catch (TaskFailedException e) when (e.TaskName == nameof(RecordRunChangeActivity))
        {
            // Every other activity's failure is handled where it is awaited. Recording's retries are spent: one last
            // attempt to record the run as failed, so it never shows "running" for a run that has stopped.
            context.CreateReplaySafeLogger<RunOrchestrator>().LogError(
                "Run {RunId}: the projection could not be written: {Cause}", input.RunId, e.FailureDetails.ErrorMessage);
            return await run.FailAsync(RunErrors.ProjectionFailed(FailureCauses.Of(e.FailureDetails)));
        }
        finally
        {
            // On every exit path: a timer left running would keep the ended orchestration alive until it fires.
            humans.CancelTimers();
        }
    }

    static async Task<RunOutcome> RunToEndAsync(TaskOrchestrationContext context, RunInput input, RunRecorder run, HumanWaits humans)
    {
        var log = context.CreateReplaySafeLogger<RunOrchestrator>();
        var cancel = context.WaitForExternalEvent<CancelRequest>(RunEvents.Cancel);

        var (outline, ended) = await RunPlanning.PlanAsync(context, input, run, cancel);
        if (outline is null)
        {
            return ended!;
        }

        log.LogInformation("Run {RunId} planned with {TaskCount} tasks", input.RunId, outline.Tasks.Count);
        var progress = new RunProgress(outline);
        var agents = new Dictionary<Task<AgentTaskResult>, string>();
        // A retried run's tasks may have been answered or sent back before: their next event's round goes on from there.
        var rounds = outline.Tasks.Where(t => t.Round > 0).ToDictionary(t => t.TaskId, t => t.Round);
        var reached = outline.Version;

        while (!progress.AllCompleted)
        {
            // While the run waits on its spent budget nothing new starts: tasks under way stop at their next call.
            var batch = humans.WaitsOnBudget ? StartBatch.None : progress.StartReady(agents.Count, input.Engine.MaxParallelTasks);
            if (agents.Count + batch.Agents.Count == 0 && humans.Count + batch.Humans.Count == 0)
            {
                return await run.FailAsync(RunErrors.Stuck(progress.Open()));
            }

            // A batch with a human task is recorded in one write; agents that start alone record their own start, one
            // activity and one orchestrator turn fewer per batch. Either way the store settles the run's status.
            var agentsRecordStart = batch.Humans.Count == 0;
            if (!agentsRecordStart && !await run.StartAsync(batch))
            {
                return await run.CancelAsync();
            }

            foreach (var taskId in batch.Humans)
            {
                humans.Add(taskId, rounds.GetValueOrDefault(taskId));
            }

            foreach (var taskId in batch.Agents)
            {
                // Started by a batch it records, a task is running in the version that batch wrote, which is not known here.
                var task = new AgentTaskInput(input.AccountId, input.RunId, taskId, input.Engine.RequireApproval, input.Attempt, agentsRecordStart,
                    agentsRecordStart ? reached : 0);
                agents.Add(context.ExecuteAgentTaskAsync(task), taskId);
            }

            var done = await Task.WhenAny(agents.Keys.Concat(humans.Tasks).Append(cancel));
            if (done == cancel)
            {
                return await run.CancelAsync();
            }

            if (done is Task<AgentTaskResult> agentDone && agents.Remove(agentDone, out var agentTask))
            {
                AgentTaskResult result;
                try
                {
                    result = await agentDone;
                }
                catch (TaskFailedException e)
                {
                    return await run.FailAsync(RunErrors.TaskFailed(agentTask, FailureCauses.Of(e.FailureDetails)), agentTask);
                }

                if (!result.Recorded)
                {
                    // The run ended without this orchestration (a client cancelled it, or a retry replaced this
                    // attempt): the cancel event may still be on its way, and nothing more may start.
                    return await run.CancelAsync();
                }

                reached = RunVersions.Reached(reached, result.Version);
                if (result.PausedOnBudget is { } budgetRound)
                {
                    // The run's budget was spent before the task's next call: it starts again once a person raises it.
                    progress.Set(agentTask, TaskState.Pending);
                    humans.AddBudget(budgetRound);
                }
                else if (result.WaitingCall is { } callId)
                {
                    // The task's loop waits for a person to let a tool call be made; it goes on once they answer.
                    progress.Set(agentTask, TaskState.WaitingHuman);
                    humans.AddToolApproval(agentTask, callId);
                }
                else if (input.Engine.RequireApproval)
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
                return human.Kind == HumanWaitKind.Budget
                    ? await run.FailAsync(RunErrors.BudgetNotRaised(input.Engine.HumanTimeoutSeconds ?? 0))
                    : await run.TimeOutAsync(human.TaskId, input.Engine.HumanTimeoutSeconds ?? 0);
            }

            var reply = await human.Reply;
            reached = RunVersions.Reached(reached, reply.Version);
            if (human.Kind == HumanWaitKind.Budget)
            {
                // Raised: the tasks it stopped are pending and start as the parallel bound allows.
                continue;
            }

            if (human.Kind == HumanWaitKind.ToolCall)
            {
                // Made as asked or edited, or refused: either way the store shows the task running again, and its
                // loop goes on as soon as the parallel bound allows.
                progress.Set(human.TaskId, TaskState.Pending);
                continue;
            }

            if (reply.Decision == HumanDecision.Accepted)
            {
                progress.Set(human.TaskId, TaskState.Completed);
                continue;
            }

            var round = rounds[human.TaskId] = rounds.GetValueOrDefault(human.TaskId) + 1;
            if (round > input.Engine.MaxReviewRounds)
            {
                return await run.FailAsync(RunErrors.TooManyReviews(human.TaskId, input.Engine.MaxReviewRounds), human.TaskId);
            }

            // Sent back with feedback: the store already shows the redo running, as the human's request left it, and
            // the agent starts it again as soon as the parallel bound allows.
            progress.Set(human.TaskId, TaskState.Pending);
        }

        return await SynthesizeAsync(context, input, run, humans, cancel);
    }

    /// <summary>The final output, written once every task is done; paused on a spent budget until a person raises it.</summary>
    static async Task<RunOutcome> SynthesizeAsync(TaskOrchestrationContext context, RunInput input, RunRecorder run, HumanWaits humans, Task<CancelRequest> cancel)
    {
        while (true)
        {
            var synthesis = context.SynthesizeAsync(new SynthesisInput(input.AccountId, input.RunId, input.Attempt));
            if (await Task.WhenAny(synthesis, cancel) == cancel)
            {
                return await run.CancelAsync();
            }

            SynthesisResult result;
            try
            {
                result = await synthesis;
            }
            catch (TaskFailedException e)
            {
                return await run.FailAsync($"Synthesis failed: {FailureCauses.Of(e.FailureDetails)}");
            }

            if (result.PausedOnBudget is not { } round)
            {
                return result.Completed ? new RunOutcome(RunStatus.Completed) : new RunOutcome(RunStatus.Cancelled);
            }

            humans.AddBudget(round);
            var done = await Task.WhenAny(humans.Tasks.Append(cancel));
            if (done == cancel)
            {
                return await run.CancelAsync();
            }

            var budget = humans.Take(done)!;
            if (done == budget.Timeout)
            {
                return await run.FailAsync(RunErrors.BudgetNotRaised(input.Engine.HumanTimeoutSeconds ?? 0));
            }
        }
    }
}
