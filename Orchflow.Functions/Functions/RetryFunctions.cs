using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
public sealed class RetryFunctions(IRunStore runs, IOptions<EngineOptions> engine, ILogger<RetryFunctions> log)
{
    [Function(nameof(RetryRun))]
    [Idempotent]
    public async Task<IActionResult> RetryRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "api/v1/runs/{runId}/retry")] HttpRequest req,
        string runId,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        if (!Ids.LooksLike("run", runId))
        {
            return RunsFunctions.RunNotFound(runId);
        }

        // Of two retries at once, one moves the run on; the other finds it no longer failed and is refused.
        var outcome = await runs.RetryAsync(caller.AccountId, runId, cancellationToken);
        switch (outcome.Result)
        {
            case RetryResult.NotFound:
                return RunsFunctions.RunNotFound(runId);
            case RetryResult.NotRetryable:
                return Problems.Conflict($"Run {runId} is {outcome.Run!.Status.ToWire()}; only a failed or cancelled run can be retried.");
        }

        var run = outcome.Run!;
        try
        {
            await RunInput.ScheduleAsync(durable, run, run.Attempt, engine.Value);
        }
        catch (Exception e)
        {
            // The retry never started: the run must not sit queued for ever.
            log.LogError(e, "Run {RunId}: attempt {Attempt} could not be started", runId, run.Attempt);
            await runs.ApplyAsync(new RunTransition(caller.AccountId, runId, RunStatus.Failed, [],
                Error: "Orchflow could not start the retry; retry again.", Attempt: run.Attempt), CancellationToken.None);
            throw;
        }

        log.LogInformation("Run {RunId} retried (attempt {Attempt})", runId, run.Attempt);
        return ApiResult.Accepted(RunView.Of(run), RunsFunctions.RunLocation(runId));
    }
}
