using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Erasure;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Http;
using Orchflow.Functions.Http.Idempotency;
using Orchflow.Orchestrators;

namespace Orchflow.Functions.Functions;

/// <summary>Start, list, read and cancel runs.</summary>
public sealed class RunsFunctions(
    IRunStore runs,
    IRunEventStore events,
    IAccountStore accounts,
    IProviderStore providers,
    IToolbox toolbox,
    RunScheduler scheduler,
    DataEraser eraser,
    TimeProvider clock,
    ILogger<RunsFunctions> log)
{
    public const int MaxTaskLength = 8000;
    public const int MaxAgents = 10;
    public const int MaxTopics = 10;
    public const int MaxTimeoutSeconds = 30 * 24 * 3600;

    [Function(nameof(StartRun))]
    [Idempotent]
    public async Task<IActionResult> StartRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = FunctionCatalog.Api + "/runs")] HttpRequest req,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var (body, problem) = await RequestBody.ReadAsync<StartRunRequest>(req, cancellationToken);
        var (definition, validation) = problem is null
            ? await RunDefinitions.ReadAsync(body!, toolbox, caller.AccountId, cancellationToken)
            : (null, new Validation());
        if (definition is null)
        {
            return problem ?? validation.Problem();
        }

        if (await ChargeAsync(caller.AccountId, definition, cancellationToken) is { } refused)
        {
            return refused;
        }

        var now = clock.GetUtcNow();
        var run = RunRecord.Queued(Ids.NewRunId(now), caller.AccountId, definition, now);
        try
        {
            await runs.CreateAsync(run, CancellationToken.None);
        }
        catch
        {
            await RefundAsync(caller.AccountId, definition);
            throw;
        }

        await scheduler.StartAsync(durable, run, "Orchflow could not start this run; start it again.", onFailure: () => RefundAsync(caller.AccountId, definition));
        log.LogInformation("Run {RunId} queued for account {AccountId}", run.RunId, caller.AccountId);
        return ApiResult.Accepted(RunView.Of(run), RunLocation(run.RunId));
    }

    /// <summary>What starting the run costs: one managed trial run, or nothing on a provider of the caller's own. A refusal when it cannot be paid.</summary>
    async Task<ApiResult?> ChargeAsync(string accountId, RunDefinition definition, CancellationToken cancellationToken)
    {
        if (definition.ProviderId is not { } providerId)
        {
            return await accounts.TryConsumeTrialRunAsync(accountId, cancellationToken) ? null : Problems.TrialExhausted();
        }

        return Ids.LooksLike("prv", providerId) && await providers.GetAsync(accountId, providerId, cancellationToken) is not null
            ? null
            : Problems.NotFound($"Provider '{providerId}' was not found.");
    }

    /// <summary>A run that never started gives its trial run back.</summary>
    Task RefundAsync(string accountId, RunDefinition definition) =>
        definition.ProviderId is null ? accounts.RefundTrialRunAsync(accountId, CancellationToken.None) : Task.CompletedTask;

    [Function(nameof(ListRuns))]
    public async Task<IActionResult> ListRuns(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionCatalog.Api + "/runs")] HttpRequest req,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var validation = new Validation();
        var limit = (int)Query.Long(req, "limit", 20, 1, 100, validation);
        var offset = (int)Query.Long(req, "offset", 0, 0, 1_000_000, validation);
        if (!validation.IsValid)
        {
            return validation.Problem();
        }

        var page = await runs.ListAsync(caller.AccountId, limit, offset, cancellationToken);
        return ApiResult.Ok(new RunListView(page.Runs.Select(RunSummaryView.Of).ToList(), limit, offset, page.Total));
    }

    [Function(nameof(GetRun))]
    public async Task<IActionResult> GetRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionCatalog.Api + "/runs/{runId}")] HttpRequest req,
        string runId,
        CancellationToken cancellationToken)
    {
        if (await UnchangedAsync(req, runId, cancellationToken) is { } unchanged)
        {
            return unchanged;
        }

        var run = await FindAsync(req, runId, cancellationToken);
        return run is null ? RunNotFound(runId) : ApiResult.Ok(RunView.Of(run)).Tagged(ConditionalReads.RunTag(run.Version));
    }

    [Function(nameof(GetRunTasks))]
    public async Task<IActionResult> GetRunTasks(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionCatalog.Api + "/runs/{runId}/tasks")] HttpRequest req,
        string runId,
        CancellationToken cancellationToken)
    {
        if (await UnchangedAsync(req, runId, cancellationToken) is { } unchanged)
        {
            return unchanged;
        }

        var run = await FindAsync(req, runId, cancellationToken);
        return run is null
            ? RunNotFound(runId)
            : ApiResult.Ok(new TaskListView(run.RunId, run.Tasks.Select(t => TaskView.Of(t, run.Tasks)).ToList())).Tagged(ConditionalReads.RunTag(run.Version));
    }

    /// <summary>
    /// The 304 (or 404) for a poller that sent If-None-Match, decided by the run's status as this process knows it
    /// (<see cref="IRunEventStore.RecentMarkAsync"/>) or by one point read of it; null when the body must be read and sent.
    /// </summary>
    async Task<ApiResult?> UnchangedAsync(HttpRequest req, string runId, CancellationToken cancellationToken)
    {
        if (req.Headers.IfNoneMatch.Count == 0 || !Ids.LooksLike("run", runId))
        {
            return null;
        }

        var mark = await events.RecentMarkAsync(ApiKeyAuthenticator.CallerOf(req).AccountId, runId, cancellationToken);
        if (mark is null)
        {
            return RunNotFound(runId);
        }

        var tag = ConditionalReads.RunTag(mark.Version);
        return ConditionalReads.Matches(req, tag) ? ConditionalReads.NotModified(tag) : null;
    }

    [Function(nameof(CancelRun))]
    public async Task<IActionResult> CancelRun(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = FunctionCatalog.Api + "/runs/{runId}")] HttpRequest req,
        string runId,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var validation = new Validation();
        var purge = Query.Flag(req, "purge", false, validation);
        if (!validation.IsValid)
        {
            return validation.Problem();
        }

        if (!Ids.LooksLike("run", runId))
        {
            return RunNotFound(runId);
        }

        if (purge)
        {
            // Cancelled if need be, then erased: its rows now, its orchestration history once that has ended.
            var purged = await eraser.PurgeRunAsync(durable, caller.AccountId, runId, cancellationToken);
            if (purged is null)
            {
                return RunNotFound(runId);
            }

            log.LogInformation("Run {RunId} erased at its owner's request", runId);
            return ApiResult.AcceptedEmpty();
        }

        var change = await runs.ChangeAsync(caller.AccountId, runId, (run, now) => RunTransitions.Cancel(run, now), cancellationToken);
        if (change is null || change.Refusal is not null)
        {
            return change is null ? RunNotFound(runId) : Problems.Refused(change.Decision);
        }

        // The run is recorded cancelled; the event stops its orchestration from starting anything else.
        await durable.RaiseEventAsync(RunInput.InstanceOf(runId, change.Run.Attempt), RunEvents.Cancel, new CancelRequest("cancelled by the client"),
            CancellationToken.None);
        log.LogInformation("Run {RunId} cancelled", runId);
        return ApiResult.Ok(RunView.Of(change.Run));
    }

    internal static string RunLocation(string runId) => $"{FunctionCatalog.ApiBase}/runs/{runId}";

    internal static ApiResult RunNotFound(string runId) => Problems.NotFound($"Run '{runId}' was not found.");

    Task<RunRecord?> FindAsync(HttpRequest req, string runId, CancellationToken cancellationToken) =>
        Ids.LooksLike("run", runId)
            ? runs.GetRecentAsync(ApiKeyAuthenticator.CallerOf(req).AccountId, runId, cancellationToken)
            : Task.FromResult<RunRecord?>(null);
}
