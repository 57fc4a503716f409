using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Telemetry;

/// <summary>
/// Counts runs started and ended, and times them, from the run log as the projection commits it: each event is told
/// once, by the process whose write landed, so a replayed orchestration or a retried activity never counts twice.
/// </summary>
public sealed class RunMetrics : IRunLogObserver
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
                case EventTypes.RunCompleted or EventTypes.RunFailed or EventTypes.RunCancelled:
                    // The run id says when the run was started, to the millisecond: no read needed to time it.
                    var started = Ids.RunCreatedAt(runId);
                    OrchflowTelemetry.RunEnded(entry.Type["run.".Length..], started is null ? null : entry.CreatedAt - started.Value);
                    break;
            }
        }
    }
}
