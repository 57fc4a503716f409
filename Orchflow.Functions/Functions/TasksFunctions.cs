using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Http;
using Orchflow.Functions.Http.Idempotency;
using Orchflow.Functions.Runs;

namespace Orchflow.Functions.Functions;

/// <summary>A human answers a task the run is waiting on: context, or a verdict on a draft.</summary>
public sealed class TasksFunctions(TaskAnswers answers)
{
    public const int MaxOutputLength = TaskAnswers.MaxOutputLength;

    /// <summary>The most JSON a person's edit of a tool call's arguments may hold.</summary>
    public const int MaxArgumentsLength = TaskAnswers.MaxArgumentsLength;

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
        return problem ?? await answers.AnswerAsync(caller.AccountId, runId, taskId, body!, durable, cancellationToken);
    }
}
