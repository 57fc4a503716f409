using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Caching.Memory;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// Each run's partition state (status and task rows, without texts) as this process last read or wrote it, with the
/// rows' ETags: <see cref="RunPartition"/> decides the next change on it without reading first, and the batch, guarded
/// by those ETags, fails if anything changed since; the partition is read then and the change decided again.
/// </summary>
sealed class RememberedPartitions : IDisposable
{
    readonly MemoryCache known = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    /// <summary>The remembered state if it can stand for a read of <paramref name="scope"/>; null when the partition must be read.</summary>
    public Remembered? For(string runId, TaskScope scope, string? taskId)
    {
        if (!known.TryGetValue(runId, out Remembered? remembered) || remembered is null)
        {
            return null;
        }

        return scope switch
        {
            TaskScope.All when !remembered.AllTasks => null,
            TaskScope.One when !remembered.AllTasks && remembered.State.Task(taskId!) is null => null,
            _ => remembered,
        };
    }

    public void Remember(PartitionState state, bool allTasks)
    {
        if (!state.Exists || state.StatusETag is null || state.Status.IsTerminal())
        {
            known.Remove(state.RunId);
            return;
        }

        // A slower reader's older copy never replaces a newer one; a copy of the same version may know more tasks.
        if (known.TryGetValue(state.RunId, out Remembered? current) && current is not null &&
            (current.State.Version > state.Version || (current.State.Version == state.Version && current.AllTasks && !allTasks)))
        {
            return;
        }

        known.Set(state.RunId, new Remembered(state, allTasks), new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromMinutes(5) });
    }

    /// <summary>
    /// The partition after a batch landed: the rows it wrote, under the ETags the batch answered. It holds every task
    /// only if the state the change was decided on did (<paramref name="allTasks"/>).
    /// </summary>
    public void Wrote(
        PartitionState before, bool allTasks, List<TableTransactionAction> actions, IReadOnlyList<Response> responses, TableEntity status,
        IReadOnlyList<TaskRecord> after)
    {
        var etags = new Dictionary<string, ETag>(StringComparer.Ordinal);
        for (var i = 0; i < actions.Count && i < responses.Count; i++)
        {
            if (responses[i].Headers.ETag is { } etag)
            {
                etags[actions[i].Entity.RowKey] = etag;
            }
        }

        if (!etags.TryGetValue(RunRows.Status, out var statusETag) ||
            after.Any(t => !etags.ContainsKey(t.TaskId) && before.Task(t.TaskId) is null))
        {
            known.Remove(before.RunId);
            return;
        }

        var tasks = after
            .Select(t => t with { Output = null, ETag = etags.TryGetValue(t.TaskId, out var e) ? e.ToString() : t.ETag })
            .ToList();
        var written = RunPartition.StateOf(before.RunId, [status]) with { StatusETag = statusETag, Tasks = tasks };
        Remember(written, allTasks);
    }

    public void Forget(string runId) => known.Remove(runId);

    public void Dispose() => known.Dispose();

    public sealed record Remembered(PartitionState State, bool AllTasks);
}
