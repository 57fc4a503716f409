using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// Where each run stood when this process last wrote it or read its status, and when: a client's read of a run known
/// here for less than <see cref="StorageOptions.ReadFreshnessMs"/> is answered from memory instead of another point
/// read of the status row, so pollers of one run cost storage one read per window, not one each. A write made in this
/// process is known at once; one made by another instance (in Azure, the durable workers) is seen once the window has
/// passed. Writers and the engine's own activities never use it to skip a read; they use the newest version known
/// here to skip a read that could only say the copy in memory is out of date (<see cref="Latest"/>).
/// </summary>
public sealed class RunMarks(IOptions<StorageOptions> options, TimeProvider clock)
{
    /// <summary>How many times marks are learned between sweeps of those too old to matter.</summary>
    const int SweepEvery = 50_000;

    readonly ConcurrentDictionary<string, Known> marks = new(StringComparer.Ordinal);
    readonly long window = clock.TimestampFrequency * options.Value.ReadFreshnessMs / 1000;

    /// <summary>How long a mark is kept: the window, and at least a minute, as the newest version known it still serves.</summary>
    readonly long keep = clock.TimestampFrequency * Math.Max(options.Value.ReadFreshnessMs / 1000, 60);
    long learned;

    /// <summary>Marks with no window: every client read asks storage (what a store built without the host's settings uses).</summary>
    public static RunMarks WithoutWindow() => new(Options.Create(new StorageOptions { ReadFreshnessMs = 0 }), TimeProvider.System);

    /// <summary>A timestamp to pass to <see cref="Saw"/>: take it before the read whose result it stamps.</summary>
    public long Now() => clock.GetTimestamp();

    /// <summary>The run's owner and mark, when this process learned them within the window; null when it must ask storage.</summary>
    public (string AccountId, RunMark Mark)? Recent(string runId)
    {
        if (window > 0 && marks.TryGetValue(runId, out var known) && clock.GetTimestamp() - known.Stamp < window)
        {
            return (known.AccountId, known.Mark);
        }

        return null;
    }

    /// <summary>The newest version of the run this process has seen, however long ago (versions never go back); 0 when none.</summary>
    public long Latest(string runId) => marks.TryGetValue(runId, out var known) ? known.Mark.Version : 0;

    /// <summary>
    /// The run stood at <paramref name="mark"/> at <paramref name="stamp"/> (the start of the read that found it, or the
    /// moment a write landed). An older version never replaces a newer one, whatever order the news arrives in.
    /// </summary>
    public void Saw(string accountId, string runId, RunMark mark, long stamp)
    {
        var known = new Known(accountId, mark, stamp);
        marks.AddOrUpdate(runId, known, (_, old) =>
            mark.Version > old.Mark.Version || (mark.Version == old.Mark.Version && stamp > old.Stamp) ? known : old);
        if (Interlocked.Increment(ref learned) % SweepEvery == 0)
        {
            Sweep();
        }
    }

    public void Saw(RunRecord run, long stamp) => Saw(run.AccountId, run.RunId, new RunMark(run.Version, run.Sequence, run.Status), stamp);

    void Sweep()
    {
        var now = clock.GetTimestamp();
        foreach (var (runId, known) in marks)
        {
            if (now - known.Stamp >= keep)
            {
                marks.TryRemove(new KeyValuePair<string, Known>(runId, known));
            }
        }
    }

    readonly record struct Known(string AccountId, RunMark Mark, long Stamp);
}
