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
public sealed class TasksFunctions(IRunStore runs, ILogger<TasksFunctions> log)
{
    public const int MaxOutputLength = 32_000;

    [Function(nameof(CompleteTask))]
    [Idempotent]
    public async Task<IActionResult> CompleteTask(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = FunctionCatalog.Api + "/runs/{runId}/tasks/{taskId}/complete")] HttpRequest req,
        string runId,
        string taskId,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var (body, problem) = await RequestBody.ReadAsync<CompleteTaskRequest>(req, cancellationToken);
        var (answer, validation) = problem is null ? Answer(body!) : (null, new Validation());
        if (answer is null)
        {
            return problem ?? validation.Problem();
        }

        // Exactly one of two concurrent answers lands: the second is decided on the task as the first left it.
        var change = Ids.LooksLike("run", runId)
            ? await runs.ChangeAsync(caller.AccountId, runId, (run, now) => RunTransitions.Answer(run, taskId, answer, now), cancellationToken)
            : null;
        if (change is null || change.Refusal is not null)
        {
            return change is null ? RunsFunctions.RunNotFound(runId) : Problems.Refused(change.Refusal!);
        }

        var waited = change.Before.Task(taskId)!;
        var answered = change.Task(taskId)!;
        await DeliverAsync(durable, change, waited, caller.AccountId);
        OrchflowTelemetry.HumanAnswered(waited, accepted: answered.State == TaskState.Completed, change.Run.UpdatedAt);
        log.LogInformation("Run {RunId} task {TaskId} answered ({State})", runId, taskId, answered.State.ToWire());
        return ApiResult.Ok(TaskView.Of(answered, change.Run.Tasks));
    }

    /// <summary>
    /// Raises the answer's event to the attempt running the run. Should that fail, the run never heard the answer: the
    /// task waits again so the person can send it again, rather than show answered while the run waits for ever.
    /// </summary>
    async Task DeliverAsync(DurableTaskClient durable, RunChange change, TaskRecord waited, string accountId)
    {
        var accepted = change.Task(waited.TaskId)!.State == TaskState.Completed;
        try
        {
            await durable.RaiseEventAsync(RunInput.InstanceOf(change.Run.RunId, change.Before.Attempt), RunEvents.Human(waited.TaskId, waited.ReviewRound),
                new HumanReply(accepted ? HumanDecision.Accepted : HumanDecision.Rejected), CancellationToken.None);
        }
        catch (Exception e)
        {
            log.LogError(e, "Run {RunId} task {TaskId}: the answer could not be delivered", change.Run.RunId, waited.TaskId);
            var answered = change.Task(waited.TaskId)!;
            await runs.ChangeAsync(accountId, change.Run.RunId, (run, _) => RunTransitions.Reopen(run, waited.TaskId, waited.ReviewRound, answered),
                CancellationToken.None);
            throw;
        }
    }

    /// <summary>The answer as sent, its texts within bounds; what it means for the task is the run's rules' to decide.</summary>
    static (HumanAnswer? Answer, Validation Validation) Answer(CompleteTaskRequest body)
    {
        var v = new Validation();
        // Checked on its trimmed length, kept as sent: a human's edit is stored exactly.
        var output = v.Text("output", body.Output, MaxOutputLength, required: false) is null ? null : body.Output;
        var feedback = v.Text("feedback", body.Feedback, MaxOutputLength, required: false);
        return (v.IsValid ? new HumanAnswer(body.Approved, output, feedback) : null, v);
    }
}
