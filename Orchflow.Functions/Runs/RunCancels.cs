using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Functions;
using Orchflow.Functions.Http;
using Orchflow.Orchestrators;

namespace Orchflow.Functions.Runs;

/// <summary>Cancels a run for its owner: <c>DELETE /runs/{id}</c> and the MCP tool <c>cancel_run</c> (and <c>tasks/cancel</c>).</summary>
public sealed class RunCancels(IRunStore runs, ILogger<RunCancels> log)
{
    /// <summary>The run as cancelled (200; the same for a run already cancelled), or why not (404, 409).</summary>
    public async Task<ApiResult> CancelAsync(string accountId, string runId, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        if (!Ids.LooksLike("run", runId))
        {
            return RunsFunctions.RunNotFound(runId);
        }

        var change = await runs.ChangeAsync(accountId, runId, (run, now) => RunTransitions.Cancel(run, now), cancellationToken);
        if (change is null || change.Refusal is not null)
        {
            return change is null ? RunsFunctions.RunNotFound(runId) : Problems.Refused(change.Decision);
        }

        // The run is recorded cancelled; the event stops its orchestration from starting anything else.
        await durable.RaiseEventAsync(RunInput.InstanceOf(runId, change.Run.Attempt), RunEvents.Cancel, new CancelRequest("cancelled by the client"),
            CancellationToken.None);
        log.LogInformation("Run {RunId} cancelled", runId);
        return ApiResult.Ok(RunView.Of(change.Run));
    }
}
