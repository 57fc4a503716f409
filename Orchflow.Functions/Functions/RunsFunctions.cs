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
using Orchflow.Functions.Runs;

namespace Orchflow.Functions.Functions;

/// <summary>Start, list, read and cancel runs.</summary>
public sealed class RunsFunctions(
    IRunEventStore events, RunStarts starts, RunReads reads, RunCancels cancels, DataEraser eraser, ILogger<RunsFunctions> log)
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
        return problem ?? await starts.StartAsync(caller.AccountId, body!, durable, cancellationToken);
    }

    [Function(nameof(ListRuns))]
    public async Task<IActionResult> ListRuns(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionCatalog.Api + "/runs")] HttpRequest req,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var validation = new Validation();
        var limit = Query.Long(req, "limit", RunReads.DefaultLimit, 1, RunReads.MaxLimit, validation);
        var offset = Query.Long(req, "offset", 0, 0, RunReads.MaxOffset, validation);
        return validation.IsValid ? await reads.ListAsync(caller.AccountId, limit, offset, cancellationToken) : validation.Problem();
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

        return await reads.GetAsync(ApiKeyAuthenticator.CallerOf(req).AccountId, runId, cancellationToken);
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

        var run = await reads.FindAsync(ApiKeyAuthenticator.CallerOf(req).AccountId, runId, cancellationToken);
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

        if (!purge)
        {
            return await cancels.CancelAsync(caller.AccountId, runId, durable, cancellationToken);
        }

        if (!Ids.LooksLike("run", runId))
        {
            return RunNotFound(runId);
        }

        // Cancelled if need be, then erased: its rows now, its orchestration history once that has ended.
        if (await eraser.PurgeRunAsync(durable, caller.AccountId, runId, cancellationToken) is null)
        {
            return RunNotFound(runId);
        }

        log.LogInformation("Run {RunId} erased at its owner's request", runId);
        return ApiResult.AcceptedEmpty();
    }

    internal static string RunLocation(string runId) => $"{FunctionCatalog.ApiBase}/runs/{runId}";

    internal static ApiResult RunNotFound(string runId) => Problems.NotFound($"Run '{runId}' was not found.");
}
