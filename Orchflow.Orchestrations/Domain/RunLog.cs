using System.Text.Json.Nodes;

namespace Orchflow.Domain;

/// <summary>
/// One entry of a run's event log: a change of the run or of one of its tasks, numbered from 1 without gaps. The log,
/// the live stream and webhooks all carry this one object. It says what changed, never the outputs themselves.
/// </summary>
public sealed record RunLogEntry(long Sequence, string Type, DateTimeOffset CreatedAt, string? TaskId, JsonObject Data)
{
    public bool IsTerminal => Type is EventTypes.RunCompleted or EventTypes.RunFailed or EventTypes.RunCancelled;
}

/// <summary>An event about to be logged: its sequence and time are given when it is written.</summary>
public sealed record NewLogEntry(string Type, string? TaskId, JsonObject Data);

/// <summary>The event types of the run log.</summary>
public static class EventTypes
{
    public const string RunQueued = "run.queued";
    public const string RunPlanning = "run.planning";
    public const string RunPlanned = "run.planned";
    public const string RunRunning = "run.running";
    public const string RunWaitingHuman = "run.waiting_human";
    public const string RunCompleted = "run.completed";
    public const string RunFailed = "run.failed";
    public const string RunCancelled = "run.cancelled";
    public const string TaskStarted = "task.started";
    public const string TaskWaitingHuman = "task.waiting_human";
    public const string TaskCompleted = "task.completed";
    public const string TaskFailed = "task.failed";
    public const string TaskCancelled = "task.cancelled";
    public const string TaskRevisionRequested = "task.revision_requested";

    public static readonly IReadOnlyList<string> All =
    [
        RunQueued, RunPlanning, RunPlanned, RunRunning, RunWaitingHuman, RunCompleted, RunFailed, RunCancelled,
        TaskStarted, TaskWaitingHuman, TaskCompleted, TaskFailed, TaskCancelled, TaskRevisionRequested,
    ];
}

/// <summary>Where a run stood just after one of its events: its status and the tasks waiting on a human.</summary>
public sealed record RunStanding(RunStatus Status, IReadOnlyList<string> WaitingOn);

/// <summary>What a run looks like to its log: its status and its tasks' states.</summary>
public sealed record RunSnapshot(RunStatus Status, IReadOnlyList<TaskRecord> Tasks, string? Error = null);

/// <summary>Derives the events that announce a change: one per task whose state changed, then one if the run's status did.</summary>
public static class RunLog
{
    public static List<NewLogEntry> Between(RunSnapshot before, RunSnapshot after)
    {
        var entries = new List<NewLogEntry>();
        var previous = before.Tasks.ToDictionary(t => t.TaskId, t => t.State);
        foreach (var task in after.Tasks)
        {
            var was = previous.TryGetValue(task.TaskId, out var state) ? state : (TaskState?)null;
            if (was != task.State && was is not null && ForTask(task, was.Value) is { } entry)
            {
                entries.Add(entry);
            }
        }

        if (before.Status != after.Status)
        {
            entries.Add(ForRun(after));
        }

        return entries;
    }

    static NewLogEntry? ForTask(TaskRecord task, TaskState was) => task.State switch
    {
        TaskState.Running when was == TaskState.WaitingHuman =>
            new(EventTypes.TaskRevisionRequested, task.TaskId, new JsonObject { ["feedback"] = task.Feedback }),
        TaskState.Running => new(EventTypes.TaskStarted, task.TaskId, new JsonObject { ["agent"] = task.Agent }),
        TaskState.WaitingHuman => new(EventTypes.TaskWaitingHuman, task.TaskId, task.Kind == TaskKind.Human
            ? new JsonObject { ["prompt"] = task.Prompt }
            : new JsonObject { ["draft_available"] = true }),
        TaskState.Completed => new(EventTypes.TaskCompleted, task.TaskId, []),
        TaskState.Failed => new(EventTypes.TaskFailed, task.TaskId, new JsonObject { ["error"] = task.Error }),
        TaskState.Cancelled => new(EventTypes.TaskCancelled, task.TaskId, []),
        // Back to pending happens only within the engine (a redo waiting for a free slot): not a change a client sees.
        _ => null,
    };

    static NewLogEntry ForRun(RunSnapshot run) => run.Status switch
    {
        RunStatus.Queued => new(EventTypes.RunQueued, null, []),
        RunStatus.Planning => new(EventTypes.RunPlanning, null, []),
        RunStatus.Running => new(EventTypes.RunRunning, null, []),
        RunStatus.WaitingHuman => new(EventTypes.RunWaitingHuman, null, new JsonObject
        {
            ["waiting_on"] = new JsonArray(run.Tasks.Where(t => t.State == TaskState.WaitingHuman).Select(t => (JsonNode)t.TaskId).ToArray()),
        }),
        RunStatus.Completed => new(EventTypes.RunCompleted, null, []),
        RunStatus.Failed => new(EventTypes.RunFailed, null, new JsonObject { ["error"] = run.Error }),
        RunStatus.Cancelled => new(EventTypes.RunCancelled, null, []),
        _ => throw new ArgumentOutOfRangeException(nameof(run), run.Status, "Unknown run status."),
    };

    /// <summary>
    /// Replays a run's log from its first event up to <paramref name="sequence"/>: the status and the waiting tasks
    /// (as <c>GET /runs/{id}</c> would have shown them then), for a notification sent later about that event.
    /// </summary>
    public static RunStanding StandingAt(IEnumerable<RunLogEntry> log, long sequence)
    {
        var status = RunStatus.Queued;
        var waiting = new SortedSet<string>(TaskIds.Order);
        foreach (var entry in log.Where(e => e.Sequence <= sequence).OrderBy(e => e.Sequence))
        {
            status = entry.Type switch
            {
                EventTypes.RunQueued => RunStatus.Queued,
                EventTypes.RunPlanning => RunStatus.Planning,
                EventTypes.RunRunning => RunStatus.Running,
                EventTypes.RunWaitingHuman => RunStatus.WaitingHuman,
                EventTypes.RunCompleted => RunStatus.Completed,
                EventTypes.RunFailed => RunStatus.Failed,
                EventTypes.RunCancelled => RunStatus.Cancelled,
                _ => status,
            };
            if (entry.TaskId is { } taskId)
            {
                // Every other task event moves the task out of waiting_human, or was logged while it was not there.
                if (entry.Type == EventTypes.TaskWaitingHuman)
                {
                    waiting.Add(taskId);
                }
                else
                {
                    waiting.Remove(taskId);
                }
            }
        }

        return new RunStanding(status, waiting.ToList());
    }

    public static NewLogEntry Planned(int taskCount, string plannedBy) =>
        new(EventTypes.RunPlanned, null, new JsonObject { ["task_count"] = taskCount, ["planned_by"] = plannedBy });
}
