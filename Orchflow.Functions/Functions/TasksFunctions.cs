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

    /// <summary>The most JSON a person's edit of a tool call's arguments may hold.</summary>
    public const int MaxArgumentsLength = 32_000;

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
            return change is null ? RunsFunctions.RunNotFound(runId) : Problems.Refused(change.Decision);
        }

        var waited = change.Before.Task(taskId)!;
        var answered = change.Task(taskId)!;
        var accepted = waited.PendingToolCall is { } call
            ? answered.ToolCalls.Single(c => c.CallId == call.CallId).State != ToolCallState.Rejected
            : answered.State == TaskState.Completed;
        await DeliverAsync(durable, change, waited, accepted, caller.AccountId);
        OrchflowTelemetry.HumanAnswered(waited, accepted, change.Run.UpdatedAt);
        log.LogInformation("Run {RunId} task {TaskId} answered ({State})", runId, taskId, answered.State.ToWire());
        return ApiResult.Ok(TaskView.Of(answered, change.Run.Tasks));
    }

    /// <summary>
    /// Raises the answer's event to the attempt running the run: the answer to the task, or the verdict on its tool call.
    /// Should that fail, the run never heard it: the task waits again so the person can send it again, rather than show
    /// answered while the run waits for ever.
    /// </summary>
    async Task DeliverAsync(DurableTaskClient durable, RunChange change, TaskRecord waited, bool accepted, string accountId)
    {
        var runId = change.Run.RunId;
        var call = waited.PendingToolCall;
        try
        {
            await durable.RaiseEventAsync(RunInput.InstanceOf(runId, change.Before.Attempt),
                call is null ? RunEvents.Human(waited.TaskId, waited.ReviewRound) : RunEvents.ToolApproval(waited.TaskId, call.CallId),
                new HumanReply(accepted ? HumanDecision.Accepted : HumanDecision.Rejected), CancellationToken.None);
        }
        catch (Exception e)
        {
            log.LogError(e, "Run {RunId} task {TaskId}: the answer could not be delivered", runId, waited.TaskId);
            var answered = change.Task(waited.TaskId)!;
            RunDecider reopen = call is null
                ? (run, _) => RunTransitions.Reopen(run, waited.TaskId, waited.ReviewRound, answered)
                : (run, _) => RunTransitions.ReopenToolCall(run, waited.TaskId, answered.ToolCalls.Single(c => c.CallId == call.CallId));
            await runs.ChangeAsync(accountId, runId, reopen, CancellationToken.None);
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
        var arguments = body.Arguments?.ToJsonString();
        if (arguments is { Length: > MaxArgumentsLength })
        {
            v.Add("arguments", $"'arguments' may be at most {MaxArgumentsLength} characters of JSON.");
        }

        return (v.IsValid ? new HumanAnswer(body.Approved, output, feedback, arguments) : null, v);
    }
}
