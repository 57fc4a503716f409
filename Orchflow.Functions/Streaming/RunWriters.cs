using Orchflow.Domain;

namespace Orchflow.Functions.Streaming;

/// <summary>
/// Which of a run's texts its log says may be being written now: its running tasks, and the synthesis (key "") once
/// every task of its plan has completed while the run runs. A feed reads the stored texts only while one of these is
/// written elsewhere, so the moments between one task's end and the next one's start cost it no read.
/// </summary>
sealed class RunWriters
{
    const string Synthesis = "";

    readonly HashSet<string> running = new(StringComparer.Ordinal);
    readonly HashSet<string> completed = new(StringComparer.Ordinal);
    bool runRunning;

    /// <summary>The tasks of the plan, from its <c>run.planned</c>; null for a log whose plan does not say (the synthesis is
    /// then taken to be written whenever no task runs, so no text is ever missed).</summary>
    int? planned;

    /// <summary>Follows the log's next entries, in order.</summary>
    public void Follow(IEnumerable<RunLogEntry> entries)
    {
        foreach (var entry in entries)
        {
            switch (entry.Type)
            {
                case EventTypes.RunPlanned:
                    // A plan replaces the last one (a review sent it back): none of its tasks has run yet.
                    planned = entry.Data["task_count"]?.GetValue<int>();
                    completed.Clear();
                    break;
                case EventTypes.TaskStarted or EventTypes.TaskRevisionRequested when entry.TaskId is { } started:
                    running.Add(started);
                    completed.Remove(started);
                    break;
                case EventTypes.TaskCompleted when entry.TaskId is { } done:
                    running.Remove(done);
                    completed.Add(done);
                    break;
                case EventTypes.TaskWaitingHuman or EventTypes.TaskPaused or EventTypes.TaskFailed
                    or EventTypes.TaskCancelled when entry.TaskId is { } stopped:
                    running.Remove(stopped);
                    completed.Remove(stopped);
                    break;
                case EventTypes.RunRetried:
                    // A retry takes every unfinished task back to pending.
                    running.Clear();
                    break;
                case EventTypes.RunRunning:
                    runRunning = true;
                    break;
                case EventTypes.RunWaitingHuman or EventTypes.RunQueued or EventTypes.RunPlanning or EventTypes.RunCompleted
                    or EventTypes.RunFailed or EventTypes.RunCancelled:
                    runRunning = false;
                    break;
            }
        }
    }

    /// <summary>The texts (task ids, "" for the synthesis) the log says may be being written now.</summary>
    public IEnumerable<string> Writing =>
        running.Count > 0 ? running : runRunning && completed.Count >= (planned ?? 0) ? [Synthesis] : [];
}
