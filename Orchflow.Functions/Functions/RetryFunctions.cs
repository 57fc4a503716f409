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
/// and the rest runs. A managed run's retry costs a trial run, as a new run does, and brings its trial tokens.
/// </summary>
public sealed class RetryFunctions(
    IRunStore runs,
    IAccountStore accounts,
    IActiveRuns active,
    RunScheduler scheduler,
    IOptions<TrialOptions> trial,
    IOptions<AccountLimitOptions> limits,
    ILogger<RetryFunctions> log)
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
        var found = Ids.LooksLike("run", runId) ? await runs.GetAsync(caller.AccountId, runId, cancellationToken) : null;
        if (found is null)
        {
            return RunsFunctions.RunNotFound(runId);
        }

        // A run that can be retried goes again only with a place among the account's active runs, taken before any charge.
        var retryable = found.Status is RunStatus.Failed or RunStatus.Cancelled;
        var attempt = found.Attempt + 1;
        if (retryable && await active.TryTakeAsync(caller.AccountId, runId, attempt, limits.Value.MaxActiveRuns, cancellationToken) is { Taken: false } full)
        {
            return Problems.TooManyActiveRuns(full.Active, limits.Value.MaxActiveRuns);
        }

        // A managed run is charged only when it can be retried: a run that cannot is refused (409) for that, free.
        var managed = found.Definition.ProviderId is null;
        var charged = managed && retryable;
        if (charged && !await accounts.TryConsumeTrialRunAsync(caller.AccountId, cancellationToken))
        {
            await active.ReleaseUnlessActiveAsync(caller.AccountId, runId, attempt, CancellationToken.None);
            return Problems.TrialExhausted();
        }

        // Of two retries at once, one moves the run on; the other finds it no longer failed and is refused (and refunded).
        var change = await runs.ChangeAsync(caller.AccountId, runId, (run, _) => managed && !charged
            ? Uncharged(run)
            : RunTransitions.Retry(run, managed ? trial.Value.TrialTokens : null), CancellationToken.None);
        if (change is null || change.Refusal is not null)
        {
            if (charged)
            {
                await accounts.RefundTrialRunAsync(caller.AccountId, CancellationToken.None);
            }

            if (retryable)
            {
                // Unless another retry at once moved the run on to this very attempt, which goes on with the place.
                await active.ReleaseUnlessActiveAsync(caller.AccountId, runId, attempt, CancellationToken.None);
            }

            return change is null ? RunsFunctions.RunNotFound(runId) : Problems.Refused(change.Decision);
        }

        await scheduler.StartAsync(durable, change.Run, "Orchflow could not start the retry; retry again.");
        log.LogInformation("Run {RunId} retried (attempt {Attempt})", runId, change.Run.Attempt);
        return ApiResult.Accepted(RunView.Of(change.Run), RunsFunctions.RunLocation(runId));
    }

    /// <summary>
    /// A managed run that could not be retried when it was read, so was not charged: refused as it was, or, should it
    /// have failed in between, asked to be retried again (and charged then).
    /// </summary>
    static Decision Uncharged(RunState run) =>
        RunTransitions.Retry(run) is { Refusal: not null } refused
            ? refused
            : Decision.Refused(RefusalKind.Conflict, $"Run {run.RunId} ended while it was being retried; retry it again.");
}
