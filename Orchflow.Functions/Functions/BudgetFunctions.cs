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
/// A person raises what a run may spend; a run that waited on its spent budget goes on. A managed run's tokens are
/// raised no further than its trial allows.
/// </summary>
public sealed class BudgetFunctions(IRunStore runs, IOptions<TrialOptions> trial, ILogger<BudgetFunctions> log)
{
    [Function(nameof(RaiseBudget))]
    [Idempotent]
    public async Task<IActionResult> RaiseBudget(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = FunctionCatalog.Api + "/runs/{runId}/budget")] HttpRequest req,
        string runId,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var (body, problem) = await RequestBody.ReadAsync<BudgetRequest>(req, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var validation = new Validation();
        if (Budgets.Read(validation, "", body!) is not { } raise)
        {
            return validation.Problem();
        }

        // Only whose the run is and whether it is managed, which never change: a recent image in memory answers that.
        var found = Ids.LooksLike("run", runId) ? await runs.GetRecentAsync(caller.AccountId, runId, cancellationToken) : null;
        var trialTokens = found?.Definition.ProviderId is null ? trial.Value.TrialTokens : (long?)null;
        var change = found is null
            ? null
            : await runs.ChangeAsync(caller.AccountId, runId, (run, _) => RunTransitions.RaiseBudget(run, raise, trialTokens), cancellationToken);
        if (change is null || change.Refusal is not null)
        {
            return change is null ? RunsFunctions.RunNotFound(runId) : Problems.Refused(change.Decision);
        }

        if (change.Before.AwaitingBudget && !change.Run.AwaitingBudget)
        {
            await DeliverAsync(durable, change, caller.AccountId);
        }

        log.LogInformation("Run {RunId}: budget raised (waits still {Waits})", runId, change.Run.AwaitingBudget);
        return ApiResult.Ok(RunView.Of(change.Run));
    }

    /// <summary>
    /// Tells the attempt running the run that it may go on. Should that fail, the run never heard it: it waits on its
    /// budget again, so the person can raise it again, rather than show raised while the run waits for ever.
    /// </summary>
    async Task DeliverAsync(DurableTaskClient durable, RunChange change, string accountId)
    {
        var round = change.Before.BudgetRound;
        try
        {
            await durable.RaiseEventAsync(RunInput.InstanceOf(change.Run.RunId, change.Before.Attempt), RunEvents.Budget(round),
                new HumanReply(HumanDecision.Accepted, change.Run.Version), CancellationToken.None);
        }
        catch (Exception e)
        {
            log.LogError(e, "Run {RunId}: the raised budget could not be delivered", change.Run.RunId);
            await runs.ChangeAsync(accountId, change.Run.RunId, (run, _) => RunTransitions.ReopenBudget(run, round), CancellationToken.None);
            throw;
        }
    }
}
