using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Functions;
using Orchflow.Functions.Http;
using Orchflow.Orchestrators;
using Orchflow.Telemetry;

namespace Orchflow.Functions.Runs;

/// <summary>
/// A person answers a task the run waits on: context, a form's fields, or a verdict on a draft or a tool call. Both
/// <c>POST /runs/{id}/tasks/{task}/complete</c> and MCP (the tool <c>answer_task</c>, and input responses to a run's
/// input requests) answer here, so an answer is checked and delivered the same way whichever way it came.
/// </summary>
public sealed class TaskAnswers(IRunStore runs, ILogger<TaskAnswers> log)
{
    public const int MaxOutputLength = 32_000;

    /// <summary>The most JSON a person's edit of a tool call's arguments may hold.</summary>
    public const int MaxArgumentsLength = 32_000;

    /// <summary>The task as answered (200), or why not (404, 409, 422 with the field).</summary>
    public async Task<ApiResult> AnswerAsync(
        string accountId, string runId, string taskId, CompleteTaskRequest body, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var (answer, validation) = Answer(body);
        if (answer is null)
        {
            return validation.Problem();
        }

        // Exactly one of two concurrent answers lands: the second is decided on the task as the first left it.
        var change = Ids.LooksLike("run", runId)
            ? await runs.ChangeAsync(accountId, runId, (run, now) => RunTransitions.Answer(run, taskId, answer, now), cancellationToken)
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
        await DeliverAsync(durable, change, waited, accepted, accountId);
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
                new HumanReply(accepted ? HumanDecision.Accepted : HumanDecision.Rejected, change.Run.Version), CancellationToken.None);
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

        // The fields are checked against the task's form when the run decides; here only that they are an object of bounded size.
        var input = body.Input?.ToJsonString();
        if (body.Input is not null and not System.Text.Json.Nodes.JsonObject)
        {
            v.Add(FormAnswers.Field, "'input' must be a JSON object of the form's fields: {\"field\": value, …}.");
        }
        else if (input is { Length: > MaxOutputLength })
        {
            v.Add(FormAnswers.Field, $"'input' may be at most {MaxOutputLength} characters of JSON (got {input.Length}).");
        }

        return (v.IsValid ? new HumanAnswer(body.Approved, output, feedback, arguments, input) : null, v);
    }
}
