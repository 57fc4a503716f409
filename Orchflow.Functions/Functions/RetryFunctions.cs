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

namespace Orchflow.Functions.Functions;

/// <summary>
/// Takes a failed or cancelled run up again from where it stopped: what completed stays, with its outputs and answers,
/// and the rest runs. Not a new run: no trial run is taken.
/// </summary>
public sealed class RetryFunctions(IRunStore runs, RunScheduler scheduler, ILogger<RetryFunctions> log)
{
    [Function(nameof(RetryRun))]
    [Idempotent]
    public async Task<IActionResult> RetryRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = FunctionCatalog.Api + "/runs/{runId}/retry")] HttpRequest req,
        string runId,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);

        // Of two retries at once, one moves the run on; the other finds it no longer failed and is refused.
        var change = Ids.LooksLike("run", runId)
            ? await runs.ChangeAsync(caller.AccountId, runId, (run, _) => RunTransitions.Retry(run), cancellationToken)
            : null;
        if (change is null || change.Refusal is not null)
        {
            return change is null ? RunsFunctions.RunNotFound(runId) : Problems.Refused(change.Decision);
        }

        await scheduler.StartAsync(durable, change.Run, "Orchflow could not start the retry; retry again.");
        log.LogInformation("Run {RunId} retried (attempt {Attempt})", runId, change.Run.Attempt);
        return ApiResult.Accepted(RunView.Of(change.Run), RunsFunctions.RunLocation(runId));
    }
}
