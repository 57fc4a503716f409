using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Http;
using Orchflow.Functions.Http.Idempotency;
using Orchflow.Orchestrators;
using Orchflow.Telemetry;

namespace Orchflow.Functions.Functions;

/// <summary>A human answers a task the run is waiting on: context, or a verdict on a draft.</summary>
public sealed class TasksFunctions(IRunStore runs, TimeProvider clock, ILogger<TasksFunctions> log)
{
    public const int MaxOutputLength = 32_000;

    [Function(nameof(CompleteTask))]
    [Idempotent]
    public async Task<IActionResult> CompleteTask(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/v1/runs/{runId}/tasks/{taskId}/complete")] HttpRequest req,
        string runId,
        string taskId,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var (body, problem) = await RequestBody.ReadAsync<CompleteTaskRequest>(req, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var run = Ids.LooksLike("run", runId) ? await runs.GetAsync(caller.AccountId, runId, cancellationToken) : null;
        if (run is null)
        {
            return RunsFunctions.RunNotFound(runId);
        }

        var task = run.Tasks.FirstOrDefault(t => t.TaskId == taskId);
        if (task is null)
        {
            return Problems.NotFound($"Run {runId} has no task '{taskId}'.");
        }

        var (reply, validation) = Decide(body!, task);
        if (reply is null)
        {
            return validation.Problem();
        }

        if (run.Status.IsTerminal() || task.State != TaskState.WaitingHuman)
        {
            return NotWaiting(run, task);
        }

        var now = clock.GetUtcNow();
        var updated = reply.Decision == HumanDecision.Accepted
            ? task with { State = TaskState.Completed, Output = reply.Output ?? task.Output, CompletedAt = now, Feedback = null }
            : task with { State = TaskState.Running, Feedback = reply.Feedback, ReviewRound = task.ReviewRound + 1, CompletedAt = null };

        // The ETag read with the run makes this a compare-and-swap: of two concurrent answers exactly one lands.
        if (!await runs.TryReplaceTaskAsync(runId, updated, cancellationToken))
        {
            var now2 = await runs.GetAsync(caller.AccountId, runId, cancellationToken);
            return NotWaiting(now2 ?? run, now2?.Tasks.FirstOrDefault(t => t.TaskId == taskId) ?? task);
        }

        try
        {
            await durable.RaiseEventAsync(RunInput.InstanceOf(runId, run.Attempt), RunEvents.Human(taskId, task.ReviewRound), new HumanReply(reply.Decision),
                CancellationToken.None);
        }
        catch (Exception e)
        {
            // The run never heard the answer: put the task back to waiting so the human can send it again,
            // rather than leave it completed in the projection while the run waits for ever.
            log.LogError(e, "Run {RunId} task {TaskId}: the answer could not be delivered", runId, taskId);
            await runs.TryReplaceTaskAsync(runId, task with { ETag = null }, CancellationToken.None);
            throw;
        }

        OrchflowTelemetry.HumanAnswered(task, reply.Decision == HumanDecision.Accepted, now);
        log.LogInformation("Run {RunId} task {TaskId} answered ({Decision})", runId, taskId, reply.Decision);
        return ApiResult.Ok(TaskView.Of(updated));
    }

    static ApiResult NotWaiting(RunRecord run, TaskRecord task) =>
        Problems.Conflict(run.Status.IsTerminal()
            ? $"Run {run.RunId} is {run.Status.ToWire()}; its tasks can no longer be completed."
            : $"Task {task.TaskId} is {task.State.ToWire()}, not waiting_human; only a task the run is waiting on can be completed.");

    sealed record Reply(HumanDecision Decision, string? Output, string? Feedback);

    /// <summary>What the body means for this task: an answer, an approval (maybe edited), or a rejection.</summary>
    static (Reply? Reply, Validation Validation) Decide(CompleteTaskRequest body, TaskRecord task)
    {
        var v = new Validation();
        // Checked on its trimmed length, stored as sent: a human's edit is kept exactly.
        var output = v.Text("output", body.Output, MaxOutputLength, required: false) is null ? null : body.Output;
        var feedback = v.Text("feedback", body.Feedback, MaxOutputLength, required: false);
        if (!v.IsValid)
        {
            return (null, v);
        }

        if (task.Kind == TaskKind.Human)
        {
            if (output is null)
            {
                v.Add("output", "'output' is required: the answer the run is waiting for.");
                return (null, v);
            }

            return (new Reply(HumanDecision.Accepted, output, null), v);
        }

        // An agent task waits on a human only for approval of its draft.
        switch (body.Approved, output, feedback)
        {
            case (false, _, null):
                v.Add("feedback", "Rejecting a draft needs 'feedback': what the agent should change.");
                return (null, v);
            case (false, not null, _):
                v.Add("output", "Send either an edited 'output' (approve with an edit) or 'approved': false with 'feedback', not both.");
                return (null, v);
            case (false, null, _):
                return (new Reply(HumanDecision.Rejected, null, feedback), v);
            case (_, not null, _):
                return (new Reply(HumanDecision.Accepted, output, null), v);
            case (true, null, _):
                return (new Reply(HumanDecision.Accepted, null, null), v);
            default:
                v.Add("approved", "Send {\"approved\": true}, an edited {\"output\": \"…\"}, or {\"approved\": false, \"feedback\": \"…\"}.");
                return (null, v);
        }
    }
}
