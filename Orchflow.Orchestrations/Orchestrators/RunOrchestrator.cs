using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Activities;
using Orchflow.Domain;

namespace Orchflow.Orchestrators;

/// <summary>
/// One run: plan, then start every task whose dependencies are done (agents as parallel activities, humans as
/// named external events), record each transition in the projection, and synthesize the final output.
/// Deterministic: time, ids and waits come from the context only.
/// </summary>
public sealed class RunOrchestrator : TaskOrchestrator<RunInput, RunOutcome>
{
    static readonly TaskOptions Retry = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: 3, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2));

    public override async Task<RunOutcome> RunAsync(TaskOrchestrationContext context, RunInput input)
    {
        var log = context.CreateReplaySafeLogger<RunOrchestrator>();
        var run = new Run(context, input);
        var cancel = context.WaitForExternalEvent<CancelRequest>(RunEvents.Cancel);

        var planning = context.CallActivityAsync<PlanOutline?>(nameof(PlanRunActivity), new RunRef(input.AccountId, input.RunId), Retry);
        if (await Task.WhenAny(planning, cancel) == cancel)
        {
            return await run.CancelAsync([]);
        }

        PlanOutline? outline;
        try
        {
            outline = await planning;
        }
        catch (TaskFailedException e)
        {
            return await run.FailAsync($"Planning failed: {e.FailureDetails.ErrorMessage}", null, []);
        }

        if (outline is null)
        {
            // The run ended (was cancelled) before it could be planned.
            return new RunOutcome(RunStatus.Cancelled);
        }

        log.LogInformation("Run {RunId} planned with {TaskCount} tasks", input.RunId, outline.Tasks.Count);
        var progress = new RunProgress(outline);
        run.Usage = outline.Usage;
        var agents = new Dictionary<Task<AgentTaskResult>, string>();
        var humans = new Dictionary<Task<HumanReply>, HumanWait>();
        var rounds = new Dictionary<string, int>();
        var status = RunStatus.Running;

        while (!progress.AllCompleted)
        {
            var transitions = new List<TaskTransition>();
            var toStart = new List<string>();
            foreach (var task in progress.Ready())
            {
                if (task.Kind == TaskKind.Human)
                {
                    progress.Set(task.TaskId, TaskState.WaitingHuman);
                    transitions.Add(new TaskTransition(task.TaskId, TaskState.WaitingHuman));
                    humans.Add(WaitForHuman(context, input, task.TaskId, 0, out var wait), wait);
                }
                else if (agents.Count + toStart.Count < input.Engine.MaxParallelTasks)
                {
                    progress.Set(task.TaskId, TaskState.Running);
                    transitions.Add(new TaskTransition(task.TaskId, TaskState.Running));
                    toStart.Add(task.TaskId);
                }
            }

            if (agents.Count + toStart.Count == 0 && humans.Count == 0)
            {
                return await run.FailAsync(RunErrors.Stuck(progress.Open()), null, progress.Open());
            }

            var next = agents.Count + toStart.Count > 0 ? RunStatus.Running : RunStatus.WaitingHuman;
            if ((transitions.Count > 0 || next != status) && !await run.ProjectAsync(next, transitions))
            {
                return await run.CancelAsync(progress.Open());
            }

            status = next;
            foreach (var taskId in toStart)
            {
                agents.Add(StartAgent(context, input, taskId), taskId);
            }

            var done = await Task.WhenAny(agents.Keys.Concat<Task>(humans.Keys).Concat(humans.Values.Select(h => h.Timeout).OfType<Task>()).Append(cancel));
            if (done == cancel)
            {
                return await run.CancelAsync(progress.Open());
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
                    return await run.FailAsync(RunErrors.TaskFailed(agentTask, e.FailureDetails.ErrorMessage), agentTask, progress.Open());
                }

                run.Usage += result.Usage;
                if (input.Engine.RequireApproval)
                {
                    // The activity left its draft waiting for a human; the run moves on when they accept it.
                    progress.Set(agentTask, TaskState.WaitingHuman);
                    humans.Add(WaitForHuman(context, input, agentTask, rounds.GetValueOrDefault(agentTask), out var wait), wait);
                }
                else
                {
                    progress.Set(agentTask, TaskState.Completed);
                }

                continue;
            }

            var (humanDone, human) = humans.First(h => h.Key == done || h.Value.Timeout == done);
            humans.Remove(humanDone);
            if (done == human.Timeout)
            {
                var seconds = input.Engine.HumanTimeoutSeconds ?? 0;
                return await run.FailAsync(RunErrors.HumanTimedOut(human.TaskId, seconds), human.TaskId, progress.Open());
            }

            human.CancelTimer();
            var reply = await humanDone;
            if (reply.Decision == HumanDecision.Accepted)
            {
                progress.Set(human.TaskId, TaskState.Completed);
                continue;
            }

            var round = rounds[human.TaskId] = rounds.GetValueOrDefault(human.TaskId) + 1;
            if (round > input.Engine.MaxReviewRounds)
            {
                return await run.FailAsync(RunErrors.TooManyReviews(human.TaskId, input.Engine.MaxReviewRounds), human.TaskId, progress.Open());
            }

            // Sent back with feedback (already in the projection): the agent redoes the task.
            progress.Set(human.TaskId, TaskState.Running);
            if (status != RunStatus.Running && !await run.ProjectAsync(RunStatus.Running, []))
            {
                return await run.CancelAsync(progress.Open());
            }

            status = RunStatus.Running;
            agents.Add(StartAgent(context, input, human.TaskId), human.TaskId);
        }

        var synthesis = context.CallActivityAsync<bool>(
            nameof(SynthesizeRunActivity), new SynthesisInput(input.AccountId, input.RunId, run.Usage), Retry);
        if (await Task.WhenAny(synthesis, cancel) == cancel)
        {
            return await run.CancelAsync([]);
        }

        try
        {
            return await synthesis ? new RunOutcome(RunStatus.Completed) : new RunOutcome(RunStatus.Cancelled);
        }
        catch (TaskFailedException e)
        {
            return await run.FailAsync($"Synthesis failed: {e.FailureDetails.ErrorMessage}", null, []);
        }
    }

    static Task<AgentTaskResult> StartAgent(TaskOrchestrationContext context, RunInput input, string taskId) =>
        context.CallActivityAsync<AgentTaskResult>(
            nameof(ExecuteAgentTaskActivity),
            new AgentTaskInput(input.AccountId, input.RunId, taskId, input.Engine.RequireApproval),
            Retry);

    static Task<HumanReply> WaitForHuman(TaskOrchestrationContext context, RunInput input, string taskId, int round, out HumanWait wait)
    {
        var timerCancel = new CancellationTokenSource();
        var timeout = input.Engine.HumanTimeoutSeconds is int seconds
            ? context.CreateTimer(TimeSpan.FromSeconds(seconds), timerCancel.Token)
            : null;
        wait = new HumanWait(taskId, timeout, timerCancel);
        return context.WaitForExternalEvent<HumanReply>(RunEvents.Human(taskId, round));
    }

    /// <summary>A pending human task: its id and, when the run bounds human waits, the timer racing it.</summary>
    sealed record HumanWait(string TaskId, Task? Timeout, CancellationTokenSource TimerCancel)
    {
        public void CancelTimer()
        {
            // A timer left running would keep the orchestration alive until it fires.
            TimerCancel.Cancel();
            TimerCancel.Dispose();
        }
    }

    /// <summary>The run's projection writes, which every exit path shares.</summary>
    sealed class Run(TaskOrchestrationContext context, RunInput input)
    {
        public TokenUsage Usage { get; set; } = TokenUsage.Zero;

        public Task<bool> ProjectAsync(RunStatus status, IReadOnlyList<TaskTransition> tasks, string? error = null) =>
            context.CallActivityAsync<bool>(
                nameof(ProjectRunActivity),
                new RunTransition(input.AccountId, input.RunId, status, tasks, Usage, error),
                Retry);

        public async Task<RunOutcome> FailAsync(string error, string? failedTask, IEnumerable<string> open)
        {
            var tasks = open.Select(id => new TaskTransition(id, id == failedTask ? TaskState.Failed : TaskState.Cancelled,
                id == failedTask ? error : null)).ToList();
            await ProjectAsync(RunStatus.Failed, tasks, error);
            return new RunOutcome(RunStatus.Failed, error);
        }

        public async Task<RunOutcome> CancelAsync(IEnumerable<string> open)
        {
            await ProjectAsync(RunStatus.Cancelled, open.Select(id => new TaskTransition(id, TaskState.Cancelled)).ToList());
            return new RunOutcome(RunStatus.Cancelled);
        }
    }
}
