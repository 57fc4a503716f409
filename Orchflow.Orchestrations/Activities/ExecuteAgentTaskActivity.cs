using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Live;
using Orchflow.Orchestrators;
using Orchflow.Telemetry;

namespace Orchflow.Activities;

/// <summary>
/// Runs one agent task: gathers its context from the projection (goal, human answers, dependencies' outputs, fitted to
/// the engine's context budget by <see cref="AgentContext"/>), asks the model, and records the result there (the output
/// and its cost, the task done or its draft waiting for approval). When the orchestrator left the task's start to it,
/// the start is recorded while the model call is under way (<see cref="CallUnderway{T}"/>), or with the result when the
/// call answers within its grace; a loop of tool calls, or a task about to pause on its spent budget, records its start
/// first. Nothing but whether it was recorded travels back through orchestration history.
/// </summary>
public sealed class ExecuteAgentTaskActivity(
    IRunStore runs,
    IRunModelFactory models,
    IToolbox toolbox,
    LiveOutputs live,
    IOptions<EngineOptions> engine,
    TimeProvider clock,
    ILogger<ExecuteAgentTaskActivity> log)
    : TaskActivity<AgentTaskInput, AgentTaskResult>
{
    public override async Task<AgentTaskResult> RunAsync(TaskActivityContext context, AgentTaskInput input)
    {
        using var telemetry = OrchflowTelemetry.InRun(input.RunId, input.TaskId);
        // The run with every answer and output this task depends on, wherever they were written: this process's copy when
        // it is at least the version the orchestration knows of, else as stored now (one point read when it holds a copy).
        // A copy can miss what an earlier execution of this activity wrote, unheard of: for a task without tools that
        // costs at most a model call whose output is dropped when it is recorded. It can also miss tokens other
        // instances' tasks spent since, so its budget check may let this call through: one of the calls in flight a run
        // may pass its budget by (docs/api.md, "Budgets").
        var run = await runs.GetReachedAsync(input.AccountId, input.RunId, input.Reached, CancellationToken.None)
                  ?? throw new InvalidOperationException($"Run {input.RunId} is not in the projection.");
        var task = TaskOf(run, input.TaskId);
        var offered = run.Definition.ToolsFor(task.Agent);
        var usesTools = offered.Count > 0 || task.ToolCalls.Count > 0;
        if (usesTools && input.Reached > 0)
        {
            // A tool loop goes on from where its record stands, which an earlier execution of this activity may have moved
            // on without the orchestration hearing of it (a worker lost after a call): asked of storage, so no call is
            // made twice on a copy that missed it.
            run = await runs.GetAsync(input.AccountId, input.RunId, CancellationToken.None) ?? run;
            task = TaskOf(run, input.TaskId);
        }

        var toStart = input.RecordStart && task.State == TaskState.Pending;
        if (toStart ? run.Attempt != input.Attempt || run.Status.IsTerminal() : !Runs(run, task, input.Attempt))
        {
            // Not started: the run ended (cancelled) or a retry replaced this attempt. Started: done by an earlier execution
            // of this activity, or cancelled. Nothing to do either way.
            return Standing(run, task, input.Attempt);
        }

        RunChange? start = null;
        if (toStart && (usesTools || run.Budget.TokensSpent(run.Usage)))
        {
            start = await runs.ChangeAsync(input.AccountId, input.RunId,
                (state, now) => RunTransitions.StartAgent(state, input.Attempt, input.TaskId, now), CancellationToken.None);
            if (start is not { Refusal: null })
            {
                return new AgentTaskResult(Recorded: false);
            }

            (run, task, toStart) = (start.Run, TaskOf(start.Run, input.TaskId), false);
            if (!Runs(run, task, input.Attempt))
            {
                return Standing(run, task, input.Attempt);
            }
        }

        var agent = run.Definition.Agents.FirstOrDefault(a => a.Name.Equals(task.Agent, StringComparison.OrdinalIgnoreCase))
                    ?? new AgentSpec(task.Agent ?? AgentCatalog.Writer.Name);
        var planned = new PlannedTask(task.TaskId, task.Name, task.Description, task.Kind, task.Agent, task.DependsOn, task.Prompt);
        var revision = task is { Feedback: not null, Output: not null, ReviewRound: > 0 }
            ? new Revision(task.Output, task.Feedback, task.ReviewRound)
            : null;
        var seen = AgentContext.Gather(run.Tasks, task, engine.Value.ContextBudgetChars);
        LogTrimming(input, seen);
        var request = new AgentTaskRequest(run.Definition.Goal, planned, agent, AgentCatalog.SystemPromptFor(agent), seen.Inputs, revision);
        if (toStart)
        {
            return await StartWhileCallingAsync(input, request, run.Definition.ProviderId);
        }

        var model = await models.ForRunAsync(input.AccountId, run.Definition.ProviderId, CancellationToken.None);
        // Watchers see the text as the model writes it; written again (a redo, a retry), it starts again from offset 0.
        await using var writing = live.Open(input.RunId, input.TaskId);
        request = request with { Output = writing };
        if (usesTools)
        {
            // Tools an account removed since the run started are no longer offered; a call the model still asks for fails, told why.
            var tools = offered.Count == 0 ? [] : (await toolbox.FindAsync(input.AccountId, offered, CancellationToken.None)).Found;
            return await new AgentToolLoop(runs, toolbox, clock, log).RunAsync(input, run, request, model, tools, start);
        }

        if (await new BudgetGate(runs).StopAsync(input, run, BudgetPart.Tokens, input.TaskId) is { } overBudget)
        {
            return overBudget;
        }

        var reply = await model.RunTaskAsync(request, CancellationToken.None);
        return await RecordAsync(input, reply);
    }

    /// <summary>
    /// The task's start and its model call at once (<see cref="CallUnderway{T}"/>): the start recorded once the call has run
    /// for its grace, or with the result when the call answers sooner.
    /// </summary>
    async Task<AgentTaskResult> StartWhileCallingAsync(AgentTaskInput input, AgentTaskRequest request, string? providerId)
    {
        var begun = clock.GetUtcNow();
        var call = new CallUnderway<ModelReply<string>>(runs, input.AccountId, input.RunId,
            (state, _) => RunTransitions.StartAgent(state, input.Attempt, input.TaskId, begun),
            async (output, stop) =>
                await (await models.ForRunAsync(input.AccountId, providerId, CancellationToken.None)).RunTaskAsync(request with { Output = output }, stop),
            clock, log);
        LiveWriter? writing = null;
        try
        {
            if (await call.StartDueAsync())
            {
                var started = await call.RecordStartAsync();
                if (started is not { Refusal: null })
                {
                    return new AgentTaskResult(Recorded: false);
                }

                if (TaskOf(started.Run, input.TaskId) is var task && !Runs(started.Run, task, input.Attempt))
                {
                    // Another execution of this activity took the task further meanwhile: this call is not needed.
                    await call.AbandonAsync();
                    return Standing(started.Run, task, input.Attempt);
                }

                // Watchers see the text from here on, what the call wrote so far first; a restart begins it again from offset 0.
                writing = live.Open(input.RunId, input.TaskId);
                call.Show(writing);
            }

            return await RecordAsync(input, await call.AnswerAsync(), call);
        }
        finally
        {
            if (writing is not null)
            {
                await writing.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Records the model's reply, decided on the run as it is now: if the task was cancelled or failed while the model
    /// worked, the output is dropped. The reply of a <paramref name="call"/> whose start is not recorded yet lands with it.
    /// </summary>
    async Task<AgentTaskResult> RecordAsync(AgentTaskInput input, ModelReply<string> reply, CallUnderway<ModelReply<string>>? call = null)
    {
        var result = new AgentResult(reply.Value, reply.Usage, input.AwaitApproval);
        RunDecider finish = (state, now) => RunTransitions.FinishAgent(state, input.Attempt, input.TaskId, result, now);
        var finished = await runs.ChangeAsync(input.AccountId, input.RunId, call?.WithStart(finish) ?? finish, CancellationToken.None);
        if (finished is not { Refusal: null })
        {
            log.LogInformation("Run {RunId} task {TaskId} changed while it ran; its output is dropped", input.RunId, input.TaskId);
            return finished is null ? new AgentTaskResult(Recorded: false) : Standing(finished.Run, finished.Task(input.TaskId), input.Attempt);
        }

        return new AgentTaskResult(Recorded: true, reply.Value.Length, Version: finished.Run.Version);
    }

    internal static TaskRecord TaskOf(RunRecord run, string taskId) =>
        run.Tasks.SingleOrDefault(t => t.TaskId == taskId)
        ?? throw new InvalidOperationException($"Run {run.RunId} has no task {taskId}.");

    /// <summary>Whether the task runs in this attempt of a live run: its model is to be asked.</summary>
    static bool Runs(RunRecord run, TaskRecord task, int attempt) =>
        task.State == TaskState.Running && run.Attempt == attempt && !run.Status.IsTerminal();

    /// <summary>
    /// What an agent task's activity reports when the task's result is not its own to write (another execution of it got
    /// there first, or the run moved on): recorded when the result stands, as <paramref name="run"/> shows it. A task the
    /// run no longer has (another attempt planned without it) has no result here.
    /// </summary>
    internal static AgentTaskResult Standing(RunRecord run, TaskRecord? task, int attempt) =>
        task is not null && Stands(run, task, attempt)
            ? new(Recorded: true, WaitingCall: task.PendingToolCall?.CallId, Version: run.Version)
            : new(Recorded: false);

    /// <summary>Whether the task's result stands in this attempt of a live run: done, or its draft or a tool call waiting for a person.</summary>
    static bool Stands(RunRecord run, TaskRecord task, int attempt) =>
        run.Attempt == attempt && !run.Status.IsTerminal() && task.State is TaskState.Completed or TaskState.WaitingHuman;

    void LogTrimming(AgentTaskInput input, AgentContext seen)
    {
        if (seen.HumanChars > seen.BudgetChars)
        {
            log.LogWarning(
                "Run {RunId} task {TaskId}: human answers ({HumanChars} characters) exceed the context budget of {BudgetChars}; they are passed whole and dependency outputs get no room",
                input.RunId, input.TaskId, seen.HumanChars, seen.BudgetChars);
        }

        if (seen.Trimmed)
        {
            log.LogInformation(
                "Run {RunId} task {TaskId}: {OmittedChars} characters of dependency outputs {TrimmedTaskIds} omitted to fit the context budget of {BudgetChars}",
                input.RunId, input.TaskId, seen.OmittedChars, seen.TrimmedTaskIds, seen.BudgetChars);
        }
    }
}
