using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Orchestrators;
using Orchflow.Telemetry;

namespace Orchflow.Activities;

/// <summary>
/// Runs one agent task: records its start when the orchestrator left that to it, gathers its context from the
/// projection (goal, human answers, dependencies' outputs, fitted to the engine's context budget by
/// <see cref="AgentContext"/>), asks the model, and stores the output there. Only the usage travels back through
/// orchestration history.
/// </summary>
public sealed class ExecuteAgentTaskActivity(
    IRunStore runs,
    IRunModelFactory models,
    IOptions<EngineOptions> engine,
    TimeProvider clock,
    ILogger<ExecuteAgentTaskActivity> log)
    : TaskActivity<AgentTaskInput, AgentTaskResult>
{
    public override async Task<AgentTaskResult> RunAsync(TaskActivityContext context, AgentTaskInput input)
    {
        using var telemetry = OrchflowTelemetry.InRun(input.RunId, input.TaskId);
        if (input.RecordStart is { } usage &&
            !await runs.StartTaskAsync(input.AccountId, input.RunId, input.Attempt, input.TaskId, usage, CancellationToken.None))
        {
            // The run ended (cancelled) or a retry replaced this attempt before the task could start.
            return new AgentTaskResult(TokenUsage.Zero, 0);
        }

        var run = await runs.GetAsync(input.AccountId, input.RunId, CancellationToken.None)
                  ?? throw new InvalidOperationException($"Run {input.RunId} is not in the projection.");
        var task = run.Tasks.SingleOrDefault(t => t.TaskId == input.TaskId)
                   ?? throw new InvalidOperationException($"Run {input.RunId} has no task {input.TaskId}.");
        if (task.State != TaskState.Running || run.Attempt != input.Attempt)
        {
            // Cancelled (or already done by an earlier attempt of this activity): nothing to do.
            return new AgentTaskResult(TokenUsage.Zero, task.Output?.Length ?? 0);
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

        var model = await models.ForRunAsync(input.AccountId, run.Definition.ProviderId, CancellationToken.None);
        var reply = await model.RunTaskAsync(request, CancellationToken.None);

        // Written over the row as it was read, guarded by its ETag: if the task was cancelled or failed while the model
        // worked, the write loses and the output is dropped, with no second read to find that out.
        var done = task with
        {
            Output = reply.Value,
            State = input.AwaitApproval ? TaskState.WaitingHuman : TaskState.Completed,
            Usage = task.Usage + reply.Usage,
            CompletedAt = input.AwaitApproval ? null : clock.GetUtcNow(),
            WaitingSince = input.AwaitApproval ? clock.GetUtcNow() : task.WaitingSince,
        };
        if (!await runs.TryReplaceTaskAsync(input.RunId, done, CancellationToken.None))
        {
            log.LogInformation("Run {RunId} task {TaskId} changed while it ran; its output is dropped", input.RunId, input.TaskId);
            return new AgentTaskResult(reply.Usage, 0);
        }

        return new AgentTaskResult(reply.Usage, reply.Value.Length);
    }

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
