using Azure;
using Azure.Data.Tables;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// The rows that persist one decided change of a run, as one batch: each changed task row replaced over the ETag it
/// was decided on, added or deleted; the texts the change writes (long ones as chunk rows written before the batch);
/// the events announcing it, numbered on from the run's last; and the status row, over its ETag, its version moved on.
/// It persists the decision as it is: it decides nothing.
/// </summary>
sealed class PartitionWrite
{
    /// <summary>One batch holds at most 100 operations.</summary>
    const int MaxBatch = 100;

    readonly List<TableEntity> written = [];

    PartitionWrite(string runId) => RunId = runId;

    public string RunId { get; }

    public List<TableTransactionAction> Actions { get; } = [];

    /// <summary>Chunk rows of long texts, written before the batch that points at them.</summary>
    public List<TableEntity> Chunks { get; } = [];

    public List<string> Deleted { get; } = [];

    public List<RunLogEntry> Entries { get; } = [];

    public static PartitionWrite Of(RunImage image, Decision decision, DateTimeOffset now)
    {
        var before = image.State!;
        var after = decision.After!;
        var write = new PartitionWrite(image.RunId);
        foreach (var task in after.Tasks)
        {
            var old = before.Task(task.TaskId);
            var hasText = decision.Outputs.TryGetValue(task.TaskId, out var text);

            // A task's calls have rows of their own: a change to its calls alone leaves the task's row as it stands.
            if (old is not null && old with { ToolCalls = task.ToolCalls } == task && !hasText)
            {
                continue;
            }

            var row = TaskEntities.ToEntity(image.RunId, task);
            var stored = image.Row(task.TaskId);
            if (hasText)
            {
                write.Chunks.AddRange(StoredTexts.Place(row, text));
            }
            else if (stored is not null)
            {
                StoredTexts.Carry(stored, row);
            }

            write.Put(stored is null ? TableTransactionActionType.Add : TableTransactionActionType.UpdateReplace, row, stored?.ETag);
        }

        foreach (var task in after.Tasks)
        {
            write.Calls(image, before.Task(task.TaskId)?.ToolCalls ?? [], task, decision);
        }

        foreach (var removed in before.Tasks.Where(t => after.Task(t.TaskId) is null))
        {
            foreach (var row in image.CallRows(removed.TaskId).Prepend(image.Row(removed.TaskId)!))
            {
                write.Actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(image.RunId, row.RowKey), row.ETag));
                write.Deleted.Add(row.RowKey);
            }
        }

        if (decision.FinalOutput is { } finalOutput)
        {
            var final = new TableEntity(image.RunId, RunRows.FinalOutput);
            write.Chunks.AddRange(StoredTexts.Place(final, finalOutput));
            write.Put(TableTransactionActionType.UpsertReplace, final, null);
        }

        foreach (var note in decision.Notes)
        {
            write.Put(TableTransactionActionType.UpsertReplace, new TableEntity(image.RunId, RunRows.NotePrefix + note.Key)
            {
                ["At"] = note.At,
                ["Kind"] = note.Kind,
                ["Message"] = note.Message,
            }, null);
        }

        var sequence = image.Mark.Sequence;
        foreach (var e in decision.Events)
        {
            var entry = new RunLogEntry(++sequence, e.Type, now, e.TaskId, e.Data);
            write.Entries.Add(entry);
            write.Actions.Add(new TableTransactionAction(TableTransactionActionType.Add, RunRows.Entry(image.RunId, entry)));
        }

        var status = image.Row(RunRows.Status);
        write.Put(status is null ? TableTransactionActionType.Add : TableTransactionActionType.UpdateReplace,
            RunRows.StatusRow(after, image.Version + 1, sequence, now), status?.ETag);
        if (write.Actions.Count > MaxBatch)
        {
            throw new InvalidOperationException($"A change of run {image.RunId} needs {write.Actions.Count} writes; one batch holds {MaxBatch}.");
        }

        return write;
    }

    /// <summary>The task's tool call rows the change adds or moves on, each with the result it records.</summary>
    void Calls(RunImage image, IReadOnlyList<ToolCall> before, TaskRecord task, Decision decision)
    {
        if (ReferenceEquals(before, task.ToolCalls))
        {
            return;
        }

        for (var i = 0; i < task.ToolCalls.Count; i++)
        {
            var call = task.ToolCalls[i];
            var hasResult = decision.ToolResults.TryGetValue(call.CallId, out var result);
            if (i < before.Count && before[i] == call && !hasResult)
            {
                continue;
            }

            var row = TaskEntities.ToEntity(image.RunId, task.TaskId, i + 1, call);
            var stored = image.Row(row.RowKey);
            if (hasResult)
            {
                Chunks.AddRange(StoredTexts.Place(row, result));
            }
            else if (stored is not null)
            {
                StoredTexts.Carry(stored, row);
            }

            Put(stored is null ? TableTransactionActionType.Add : TableTransactionActionType.UpdateReplace, row, stored?.ETag);
        }
    }

    /// <summary>The rows the landed batch wrote, each with the ETag it was answered, and the chunk rows written before it.</summary>
    public IEnumerable<TableEntity> Written(IReadOnlyList<Response> responses)
    {
        for (var i = 0; i < Actions.Count && i < responses.Count; i++)
        {
            if (responses[i].Headers.ETag is { } etag)
            {
                Actions[i].Entity.ETag = etag;
            }
        }

        return written.Concat(Chunks);
    }

    void Put(TableTransactionActionType type, TableEntity row, ETag? etag)
    {
        Actions.Add(etag is { } guard ? new TableTransactionAction(type, row, guard) : new TableTransactionAction(type, row));
        written.Add(row);
    }
}
