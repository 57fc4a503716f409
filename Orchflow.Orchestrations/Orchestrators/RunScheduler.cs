using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Orchestrators;

/// <summary>
/// Starts the orchestration of a run's attempt (a new run, or a retry). When it cannot be started, the run is recorded
/// failed with an error that says what to do, so it never sits queued for ever, and the failure goes on to the caller.
/// </summary>
public sealed class RunScheduler(IRunStore runs, IOptions<EngineOptions> engine, ILogger<RunScheduler> log)
{
    public async Task StartAsync(DurableTaskClient durable, RunRecord run, string errorIfNotStarted, Func<Task>? onFailure = null)
    {
        try
        {
            await RunInput.ScheduleAsync(durable, run, run.Attempt, engine.Value);
        }
        catch (Exception e)
        {
            log.LogError(e, "Run {RunId}: attempt {Attempt} could not be started", run.RunId, run.Attempt);
            await runs.ChangeAsync(run.AccountId, run.RunId,
                (state, now) => RunTransitions.Fail(state, run.Attempt, errorIfNotStarted, failedTask: null, now), CancellationToken.None);
            if (onFailure is not null)
            {
                await onFailure();
            }

            throw;
        }
    }
}
