using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Telemetry;

/// <summary>
/// Counts runs started and ended, and times them, from the run log as the projection commits it: each event is told
/// once, by the process whose write landed, so a replayed orchestration or a retried activity never counts twice.
/// A task starting to wait on a human and a run ending are logged too, with their ids as properties: the log is what
/// finds who is waiting now, which no metric can tell.
/// </summary>
public sealed class RunMetrics(ILogger<RunMetrics> log) : IRunLogObserver
{
    public void Logged(string accountId, string runId, IReadOnlyList<RunLogEntry> entries)
    {
        foreach (var entry in entries)
        {
            switch (entry.Type)
            {
                case EventTypes.RunQueued:
                    OrchflowTelemetry.RunsStarted.Add(1);
                    break;
                case EventTypes.TaskWaitingHuman:
                    log.LogInformation("Run {RunId} task {TaskId} is waiting on a human", runId, entry.TaskId);
                    break;
                case EventTypes.RunCompleted or EventTypes.RunFailed or EventTypes.RunCancelled:
                    // The run id says when the run was started, to the millisecond: no read needed to time it.
                    var started = Ids.RunCreatedAt(runId);
                    var outcome = entry.Type["run.".Length..];
                    OrchflowTelemetry.RunEnded(outcome, started is null ? null : entry.CreatedAt - started.Value);
                    log.LogInformation("Run {RunId} ended {Outcome}", runId, outcome);
                    break;
            }
        }
    }
}
