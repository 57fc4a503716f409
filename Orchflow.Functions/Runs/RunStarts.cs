using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Functions;
using Orchflow.Functions.Http;
using Orchflow.Orchestrators;

namespace Orchflow.Functions.Runs;

/// <summary>
/// Starts a run as a client asks for it: read and checked, given a place among the account's active runs, paid for (a managed trial run, its tokens bounded, or the caller's own provider),
/// recorded queued and scheduled. <c>POST /runs</c> and the MCP tool <c>start_run</c> both start runs here.
/// </summary>
public sealed class RunStarts(
    IRunStore runs,
    IAccountStore accounts,
    IProviderStore providers,
    IToolbox toolbox,
    RunScheduler scheduler,
    IActiveRuns active,
    IOptions<TrialOptions> trial,
    IOptions<AccountLimitOptions> limits,
    TimeProvider clock,
    ILogger<RunStarts> log)
{
    /// <summary>The run started (202 with the run queued), or why not (422, 409, 402, 404).</summary>
    public async Task<ApiResult> StartAsync(string accountId, StartRunRequest body, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var (definition, validation) = await RunDefinitions.ReadAsync(body, toolbox, accountId, cancellationToken);
        if (definition is null)
        {
            return validation.Problem();
        }

        if (definition.ProviderId is { } providerId &&
            !(Ids.LooksLike("prv", providerId) && await providers.GetAsync(accountId, providerId, cancellationToken) is not null))
        {
            return Problems.NotFound($"Provider '{providerId}' was not found.");
        }

        // A place among the account's active runs before the trial run, so a start refused for want of one is charged nothing.
        var now = clock.GetUtcNow();
        var runId = Ids.NewRunId(now);
        var place = await active.TryTakeAsync(accountId, runId, 0, limits.Value.MaxActiveRuns, cancellationToken);
        if (!place.Taken)
        {
            return Problems.TooManyActiveRuns(place.Active, limits.Value.MaxActiveRuns);
        }

        if (definition.ProviderId is null)
        {
            if (!await accounts.TryConsumeTrialRunAsync(accountId, cancellationToken))
            {
                await active.ReleaseUnlessActiveAsync(accountId, runId, 0, CancellationToken.None);
                return Problems.TrialExhausted();
            }

            // A managed run spends at most the trial's tokens an attempt.
            definition = definition with { Budget = RunBudget.ForTrial(definition.Budget, trial.Value.TrialTokens) };
        }

        var run = RunRecord.Queued(runId, accountId, definition, now);
        try
        {
            await runs.CreateAsync(run, CancellationToken.None);
        }
        catch
        {
            await RefundAsync(accountId, definition);
            await active.ReleaseUnlessActiveAsync(accountId, runId, 0, CancellationToken.None);
            throw;
        }

        await scheduler.StartAsync(durable, run, "Orchflow could not start this run; start it again.", onFailure: () => RefundAsync(accountId, definition));
        log.LogInformation("Run {RunId} queued for account {AccountId}", run.RunId, accountId);
        return ApiResult.Accepted(RunView.Of(run), RunsFunctions.RunLocation(run.RunId));
    }

    /// <summary>A run that never started gives its trial run back.</summary>
    Task RefundAsync(string accountId, RunDefinition definition) =>
        definition.ProviderId is null ? accounts.RefundTrialRunAsync(accountId, CancellationToken.None) : Task.CompletedTask;
}
