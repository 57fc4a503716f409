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
/// Runs one agent task: records its start when the orchestrator left that to it, gathers its context from the
/// projection (goal, human answers, dependencies' outputs, fitted to the engine's context budget by
/// <see cref="AgentContext"/>), asks the model, and records the result there (the output and its cost, the task done
/// or its draft waiting for approval). Nothing but whether it was recorded travels back through orchestration history.
/// </summary>
public sealed class ExecuteAgentTaskActivity(
    IRunStore runs,
    IRunModelFactory models,
    IToolbox toolbox,
    LiveOutputs live,
    IOptions<EngineOptions> engine,
    ILogger<ExecuteAgentTaskActivity> log)
    : TaskActivity<AgentTaskInput, AgentTaskResult>
{
    public override async Task<AgentTaskResult> RunAsync(TaskActivityContext context, AgentTaskInput input)
    {
        using var telemetry = OrchflowTelemetry.InRun(input.RunId, input.TaskId);
        RunRecord? run;
        if (input.RecordStart)
        {
            var start = await runs.ChangeAsync(input.AccountId, input.RunId,
                (state, now) => RunTransitions.StartAgent(state, input.Attempt, input.TaskId, now), CancellationToken.None);
            if (start is not { Refusal: null })
            {
                // The run ended (cancelled) or a retry replaced this attempt before the task could start.
                return new AgentTaskResult(Recorded: false);
            }

            // The run as the start left it in storage: its inputs need no second read.
            run = start.Run;
        }
        else
        {
            run = await runs.GetAsync(input.AccountId, input.RunId, CancellationToken.None);
        }

        if (run is null)
        {
            throw new InvalidOperationException($"Run {input.RunId} is not in the projection.");
        }

        var task = run.Tasks.SingleOrDefault(t => t.TaskId == input.TaskId)
                   ?? throw new InvalidOperationException($"Run {input.RunId} has no task {input.TaskId}.");
        if (task.State != TaskState.Running || run.Attempt != input.Attempt || run.Status.IsTerminal())
        {
            // Done by an earlier execution of this activity, or cancelled: nothing to do either way.
            return new AgentTaskResult(Stands(run, task, input.Attempt), WaitingCall: task.PendingToolCall?.CallId);
        }

        var agent = run.Definition.Agents.FirstOrDefault(a => a.Name.Equals(task.Agent, StringComparison.OrdinalIgnoreCase))
                    ?? new AgentSpec(task.Agent ?? AgentCatalog.Writer.Name);
        var planned = new PlannedTask(task.TaskId, task.Name, task.Description, task.Kind, task.Agent, task.DependsOn, task.Prompt);
        var revision = task is { Feedback: not null, Output: not null, ReviewRound: > 0 }
            ? new Revision(task.Output, task.Feedback, task.ReviewRound)
            : null;
        var seen = AgentContext.Gather(run.Tasks, task, engine.Value.ContextBudgetChars);
        LogTrimming(input, seen);
        // Watchers see the text as the model writes it; written again (a redo, a retry), it starts again from offset 0.
        await using var writing = live.Open(input.RunId, input.TaskId);
        var request = new AgentTaskRequest(run.Definition.Goal, planned, agent, AgentCatalog.SystemPromptFor(agent), seen.Inputs, revision)
        {
            Output = writing,
        };

        var model = await models.ForRunAsync(input.AccountId, run.Definition.ProviderId, CancellationToken.None);
        var offered = run.Definition.ToolsFor(task.Agent);
        if (offered.Count > 0 || task.ToolCalls.Count > 0)
        {
            // Tools an account removed since the run started are no longer offered; a call the model still asks for fails, told why.
            var tools = offered.Count == 0 ? [] : (await toolbox.FindAsync(input.AccountId, offered, CancellationToken.None)).Found;
            return await new AgentToolLoop(runs, toolbox, log).RunAsync(input, run, request, model, tools);
        }

        if (await new BudgetGate(runs).StopAsync(input, run, BudgetPart.Tokens, input.TaskId) is { } overBudget)
        {
            return overBudget;
        }

        var reply = await model.RunTaskAsync(request, CancellationToken.None);

        // Decided on the run as it is now: if the task was cancelled or failed while the model worked, the output is dropped.
        var result = new AgentResult(reply.Value, reply.Usage, input.AwaitApproval);
        var finished = await runs.ChangeAsync(input.AccountId, input.RunId,
            (state, now) => RunTransitions.FinishAgent(state, input.Attempt, input.TaskId, result, now), CancellationToken.None);
        if (finished is not { Refusal: null })
        {
            log.LogInformation("Run {RunId} task {TaskId} changed while it ran; its output is dropped", input.RunId, input.TaskId);
            return new AgentTaskResult(finished is not null && Stands(finished.Run, finished.Task(input.TaskId)!, input.Attempt));
        }

        return new AgentTaskResult(Recorded: true, reply.Value.Length);
    }

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
