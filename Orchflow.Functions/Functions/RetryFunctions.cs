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

        // A run that can be retried goes again only with a place among the account's active runs, taken before any
        // charge. The attempt's place is one: of retries at once, the one that takes it goes on, the others are refused.
        var retryable = found.Status is RunStatus.Failed or RunStatus.Cancelled;
        var attempt = found.Attempt + 1;
        if (retryable)
        {
            var place = await active.TryTakeAsync(caller.AccountId, runId, attempt, limits.Value.MaxActiveRuns, cancellationToken);
            switch (place.Outcome)
            {
                case PlaceOutcome.Full:
                    return Problems.TooManyActiveRuns(place.Active, limits.Value.MaxActiveRuns);
                case PlaceOutcome.HeldByAnother:
                    // Not kept for an Idempotency-Key: once that retry has gone on or given up, the same request may be sent again.
                    return Problems.Conflict($"Run {runId} is being retried by another request already; read it to follow that attempt.").Unkept();
            }
        }

        // A managed run is charged only when it can be retried: a run that cannot is refused (409) for that, free.
        var managed = found.Definition.ProviderId is null;
        var charged = managed && retryable;
        if (charged && !await accounts.TryConsumeTrialRunAsync(caller.AccountId, cancellationToken))
        {
            await active.ReleaseUnlessActiveAsync(caller.AccountId, runId, attempt, CancellationToken.None);
            return Problems.TrialExhausted();
        }

        // The run is retried as it was read: one that has moved on since is refused (and refunded).
        var change = await runs.ChangeAsync(caller.AccountId, runId, (run, _) => retryable
            ? AtAttempt(run, found.Attempt, () => RunTransitions.Retry(run, managed ? trial.Value.TrialTokens : null))
            : Unplaced(run), CancellationToken.None);
        if (change is null || change.Refusal is not null)
        {
            if (charged)
            {
                await accounts.RefundTrialRunAsync(caller.AccountId, CancellationToken.None);
            }

            if (retryable)
            {
                await active.ReleaseUnlessActiveAsync(caller.AccountId, runId, attempt, CancellationToken.None);
            }

            return change is null ? RunsFunctions.RunNotFound(runId) : Problems.Refused(change.Decision);
        }

        await scheduler.StartAsync(durable, change.Run, "Orchflow could not start the retry; retry again.");
        log.LogInformation("Run {RunId} retried (attempt {Attempt})", runId, change.Run.Attempt);
        return ApiResult.Accepted(RunView.Of(change.Run), RunsFunctions.RunLocation(runId));
    }

    /// <summary>The retry's decision if the run is still at the attempt it was read at; refused if it has moved on.</summary>
    static Decision AtAttempt(RunState run, int attempt, Func<Decision> retry) =>
        run.Attempt == attempt ? retry() : Decision.Refused(RefusalKind.Conflict, $"Run {run.RunId} was retried meanwhile; read it to follow attempt {run.Attempt}.");

    /// <summary>
    /// A run that could not be retried when it was read, so took no place and was not charged: refused as it was, or,
    /// should it have failed in between, asked to be retried again (and given its place then).
    /// </summary>
    static Decision Unplaced(RunState run) =>
        RunTransitions.Retry(run) is { Refusal: not null } refused
            ? refused
            : Decision.Refused(RefusalKind.Conflict, $"Run {run.RunId} ended while it was being retried; retry it again.");
}
