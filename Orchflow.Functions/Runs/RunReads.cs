using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Functions;
using Orchflow.Functions.Http;

namespace Orchflow.Functions.Runs;

/// <summary>A caller's runs as <c>GET /runs</c> and <c>GET /runs/{id}</c> show them, and the MCP tools <c>list_runs</c> and <c>get_run</c>.</summary>
public sealed class RunReads(IRunStore runs)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;
    public const int MaxOffset = 1_000_000;

    /// <summary>The run (200), or 404 for an id that is not one of the caller's runs.</summary>
    public async Task<ApiResult> GetAsync(string accountId, string runId, CancellationToken cancellationToken) =>
        await FindAsync(accountId, runId, cancellationToken) is { } run
            ? ApiResult.Ok(RunView.Of(run)).Tagged(ConditionalReads.RunTag(run.Version))
            : RunsFunctions.RunNotFound(runId);

    public Task<RunRecord?> FindAsync(string accountId, string runId, CancellationToken cancellationToken) =>
        Ids.LooksLike("run", runId) ? runs.GetRecentAsync(accountId, runId, cancellationToken) : Task.FromResult<RunRecord?>(null);

    /// <summary>A page of the caller's runs, newest first (200), or 422 naming a bound not kept.</summary>
    public async Task<ApiResult> ListAsync(string accountId, long? limit, long? offset, CancellationToken cancellationToken)
    {
        var validation = new Validation();
        if (limit is < 1 or > MaxLimit)
        {
            validation.Add("limit", $"'limit' must be a whole number from 1 to {MaxLimit}.");
        }

        if (offset is < 0 or > MaxOffset)
        {
            validation.Add("offset", $"'offset' must be a whole number from 0 to {MaxOffset}.");
        }

        if (!validation.IsValid)
        {
            return validation.Problem();
        }

        var (take, skip) = ((int)(limit ?? DefaultLimit), (int)(offset ?? 0));
        var page = await runs.ListAsync(accountId, take, skip, cancellationToken);
        return ApiResult.Ok(new RunListView(page.Runs.Select(RunSummaryView.Of).ToList(), take, skip, page.Total));
    }
}
