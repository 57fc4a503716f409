using Microsoft.Extensions.Caching.Memory;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// Runs as last read, kept by run id and checked against the run's version before use: a run that has not changed
/// since is served by one point read of its status row instead of a read of its whole partition. Whatever instance
/// wrote the run, the version says whether this copy is still the run; nothing stale can be served.
/// </summary>
sealed class RunReadCache : IDisposable
{
    /// <summary>What the cache may hold, counted in characters of the runs' texts, roughly their size in memory.</summary>
    const long Capacity = 32 * 1024 * 1024;

    readonly MemoryCache runs = new(new MemoryCacheOptions { SizeLimit = Capacity });

    public RunRecord? Get(string runId) => runs.TryGetValue(runId, out RunRecord? run) ? run : null;

    public void Set(RunRecord run)
    {
        var size = 1_000 + run.Tasks.Sum(t => (long)(t.Output?.Length ?? 0) + (t.Prompt?.Length ?? 0)) + (run.FinalOutput?.Length ?? 0);
        if (size < Capacity / 16)
        {
            runs.Set(run.RunId, run, new MemoryCacheEntryOptions { Size = size, SlidingExpiration = TimeSpan.FromMinutes(5) });
        }
    }

    public void Dispose() => runs.Dispose();
}
