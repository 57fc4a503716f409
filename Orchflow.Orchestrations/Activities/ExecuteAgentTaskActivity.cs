using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Orchestrators;

namespace Orchflow.Activities;

/// <summary>
/// Runs one agent task: gathers its context from the projection (goal, human answers, dependencies' outputs),
/// asks the model, and stores the output there. Only the usage travels back through orchestration history.
/// </summary>
public sealed class ExecuteAgentTaskActivity(IRunStore runs, IRunModelFactory models, TimeProvider clock, ILogger<ExecuteAgentTaskActivity> log)
    : TaskActivity<AgentTaskInput, AgentTaskResult>
{
    public override async Task<AgentTaskResult> RunAsync(TaskActivityContext context, AgentTaskInput input)
    {
        var run = await runs.GetAsync(input.AccountId, input.RunId, CancellationToken.None)
                  ?? throw new InvalidOperationException($"Run {input.RunId} is not in the projection.");
        var task = run.Tasks.SingleOrDefault(t => t.TaskId == input.TaskId)
                   ?? throw new InvalidOperationException($"Run {input.RunId} has no task {input.TaskId}.");
        if (task.State != TaskState.Running)
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
        var request = new AgentTaskRequest(run.Definition.Goal, planned, agent, AgentCatalog.SystemPromptFor(agent), Inputs(run, task), revision);

        var model = await models.ForRunAsync(input.AccountId, run.Definition.ProviderId, CancellationToken.None);
        var reply = await model.RunTaskAsync(request, CancellationToken.None);

        var current = await runs.GetTaskAsync(input.RunId, input.TaskId, CancellationToken.None);
        if (current?.State != TaskState.Running)
        {
            log.LogInformation("Run {RunId} task {TaskId} ended while it ran; its output is dropped", input.RunId, input.TaskId);
            return new AgentTaskResult(reply.Usage, 0);
        }

        var done = current with
        {
            Output = reply.Value,
            State = input.AwaitApproval ? TaskState.WaitingHuman : TaskState.Completed,
            Usage = current.Usage + reply.Usage,
            CompletedAt = input.AwaitApproval ? null : clock.GetUtcNow(),
        };
        if (!await runs.TryReplaceTaskAsync(input.RunId, done, CancellationToken.None))
        {
            log.LogInformation("Run {RunId} task {TaskId} changed while it ran; its output is dropped", input.RunId, input.TaskId);
        }

        return new AgentTaskResult(reply.Usage, reply.Value.Length);
    }

    /// <summary>What the task builds on: its dependencies' outputs and every human answer of the run.</summary>
    static List<TaskInput> Inputs(RunRecord run, TaskRecord task)
    {
        var byId = run.Tasks.ToDictionary(t => t.TaskId);
        return run.Tasks
            .Where(t => t.State == TaskState.Completed && t.Output is not null &&
                        (task.DependsOn.Contains(t.TaskId) || t.Kind == TaskKind.Human))
            .Where(t => byId.ContainsKey(t.TaskId))
            .Select(t => new TaskInput(t.TaskId, t.Name, t.Kind, t.Output!))
            .ToList();
    }
}
