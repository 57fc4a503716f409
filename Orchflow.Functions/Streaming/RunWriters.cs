using Orchflow.Domain;

namespace Orchflow.Functions.Streaming;

/// <summary>
/// Which of a run's texts its log says may be being written now: its running tasks, and the synthesis (key "") while
/// the run runs with no task running. A feed reads the stored texts only while one of these is written elsewhere.
/// </summary>
sealed class RunWriters
{
    const string Synthesis = "";

    readonly HashSet<string> running = new(StringComparer.Ordinal);
    bool runRunning;

    /// <summary>Follows the log's next entries, in order.</summary>
    public void Follow(IEnumerable<RunLogEntry> entries)
    {
        foreach (var entry in entries)
        {
            switch (entry.Type)
            {
                case EventTypes.TaskStarted or EventTypes.TaskRevisionRequested when entry.TaskId is { } started:
                    running.Add(started);
                    break;
                case EventTypes.TaskWaitingHuman or EventTypes.TaskPaused or EventTypes.TaskCompleted or EventTypes.TaskFailed
                    or EventTypes.TaskCancelled when entry.TaskId is { } stopped:
                    running.Remove(stopped);
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
        running.Count > 0 ? running : runRunning ? [Synthesis] : [];
}
