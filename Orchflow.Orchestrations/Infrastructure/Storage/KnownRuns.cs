using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Azure;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Telemetry;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// What this process knows of each run, in one place: where the run stood and when that was learned (its mark), its
/// partition as last read or written (<see cref="RunImage"/>, with every row's ETag), and its listing row's version and
/// ETag. One entry per run, one bound (<see cref="StorageOptions.KnownRunsCapacity"/>, in characters of the texts
/// held), one eviction rule: past the bound, the runs used longest ago go first.
/// <list type="bullet">
/// <item>A client's read of a run learned here within <see cref="StorageOptions.ReadFreshnessMs"/> is answered from
/// memory (<see cref="Recent"/>): pollers of one run cost storage one read per window. A write made here is known at
/// once; one made by another instance is seen once the window has passed.</item>
/// <item>A change is decided on the image (<see cref="Image"/>) without reading first; the write is guarded by the
/// rows' ETags, and the partition is read again when it fails.</item>
/// <item>An agent task without tools, gathering its inputs, is served the image when it is at least the version its
/// orchestration knows those inputs reached; otherwise (and always for other activities) it asks storage for the run's
/// version and is served the image when it is still that version.</item>
/// </list>
/// Versions never go back: news of an older version never replaces a newer one, whatever order it arrives in.
/// </summary>
public sealed class KnownRuns
{
    static readonly Counter<long> Lookups = OrchflowTelemetry.Meter.CreateCounter<long>(
        "orchflow.known_runs.lookups", "{lookup}", "Looks into what this process knows of a run, by use and outcome (hit or miss).");

    readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);
    readonly TimeProvider clock;
    readonly long window;
    readonly long capacity;
    long size;
    int evicting;

    public KnownRuns(IOptions<StorageOptions> options, TimeProvider clock)
    {
        this.clock = clock;
        window = clock.TimestampFrequency * options.Value.ReadFreshnessMs / 1000;
        capacity = options.Value.KnownRunsCapacity;
        OrchflowTelemetry.Meter.CreateObservableGauge("orchflow.known_runs.entries", () => (long)entries.Count, "{run}",
            "Runs this process knows of (marks, images and listing stamps).");
    }

    /// <summary>A memory with no freshness window: every client read asks storage (what a store built without the host's settings uses).</summary>
    public static KnownRuns WithoutWindow() => new(Options.Create(new StorageOptions { ReadFreshnessMs = 0 }), TimeProvider.System);

    /// <summary>How many runs are known here.</summary>
    public int Count => entries.Count;

    /// <summary>A timestamp to pass to <see cref="Saw"/> and <see cref="Read"/>: take it before the read whose result it stamps.</summary>
    public long Now() => clock.GetTimestamp();

    /// <summary>The run's owner and mark, when learned within the window; null when a client's read must ask storage.</summary>
    public (string AccountId, RunMark Mark)? Recent(string runId)
    {
        if (window > 0 && entries.TryGetValue(runId, out var e) && clock.GetTimestamp() - e.Stamp < window)
        {
            CountLookup("recent", hit: true);
            return (e.AccountId, e.Mark);
        }

        CountLookup("recent", hit: false);
        return null;
    }

    /// <summary>The run's image when it is the newest version known here (null when it is not, or none is kept).</summary>
    public RunImage? Image(string runId)
    {
        if (entries.TryGetValue(runId, out var e) && e.Image is { } image && image.Version == e.Mark.Version)
        {
            CountLookup("image", hit: true);
            Touch(e);
            return image;
        }

        CountLookup("image", hit: false);
        return null;
    }

    /// <summary>The newest version of the run seen here, however long ago; 0 when none.</summary>
    public long Latest(string runId) => entries.TryGetValue(runId, out var e) ? e.Mark.Version : 0;

    /// <summary>The run stood at <paramref name="mark"/> at <paramref name="stamp"/> (a point read of its status row).</summary>
    public void Saw(string accountId, string runId, RunMark mark, long stamp) => Learn(runId, new Entry(accountId, mark, stamp, null, null));

    /// <summary>The partition was read whole (at <paramref name="stamp"/>) or written (now): its image stands for the run.</summary>
    public void Read(RunImage image, long stamp)
    {
        if (image.AccountId is { } owner)
        {
            Learn(image.RunId, new Entry(owner, image.Mark, stamp, image, null));
        }
    }

    public void Wrote(RunImage image) => Read(image, clock.GetTimestamp());

    /// <summary>A write was refused: the image is no longer the partition; the mark stands.</summary>
    public void Forget(string runId)
    {
        if (entries.TryGetValue(runId, out var e) && e.Image is not null)
        {
            Replace(runId, e, e with { Image = null });
        }
    }

    /// <summary>
    /// The listing row's version and ETag as this process last wrote them, and when (a <see cref="Now"/> timestamp); null
    /// when it must be read.
    /// </summary>
    public (long Version, ETag ETag, long At)? Listing(string runId)
    {
        var listing = entries.TryGetValue(runId, out var e) ? e.Listing : null;
        CountLookup("listing", listing is not null);
        return listing;
    }

    /// <summary>The listing row of the run now holds <paramref name="version"/> under <paramref name="etag"/> (default: unknown).</summary>
    public void Listed(string runId, long version, ETag etag)
    {
        var listing = etag == default ? ((long, ETag, long)?)null : (version, etag, clock.GetTimestamp());
        while (entries.TryGetValue(runId, out var old) && old.Listing != listing && !Replace(runId, old, old with { Listing = listing }))
        {
            // Another thread replaced the entry meanwhile: set the listing on what it left.
        }
    }

    /// <summary>Keeps what is newer: a newer version replaces all; the same version keeps the later stamp and any image.</summary>
    void Learn(string runId, Entry learned)
    {
        while (true)
        {
            if (!entries.TryGetValue(runId, out var old))
            {
                if (entries.TryAdd(runId, learned))
                {
                    Grew(learned.Image?.Size ?? 0);
                    return;
                }

                continue;
            }

            Entry next;
            if (learned.Mark.Version > old.Mark.Version)
            {
                next = learned with { Listing = old.Listing };
            }
            else if (learned.Mark.Version == old.Mark.Version)
            {
                next = old with
                {
                    Stamp = Math.Max(old.Stamp, learned.Stamp),
                    Mark = learned.Mark,
                    Image = learned.Image ?? old.Image,
                };
            }
            else
            {
                return;
            }

            if (Replace(runId, old, next))
            {
                return;
            }
        }
    }

    bool Replace(string runId, Entry old, Entry next)
    {
        if (!entries.TryUpdate(runId, next, old))
        {
            return false;
        }

        Grew((next.Image?.Size ?? 0) - (old.Image?.Size ?? 0));
        return true;
    }

    void Touch(Entry entry) => entry.Used = clock.GetTimestamp();

    void Grew(long by)
    {
        if (Interlocked.Add(ref size, by) + entries.Count * EntryOverhead > capacity && Interlocked.Exchange(ref evicting, 1) == 0)
        {
            try
            {
                Evict();
            }
            finally
            {
                Volatile.Write(ref evicting, 0);
            }
        }
    }

    /// <summary>What an entry without an image counts against the bound.</summary>
    const long EntryOverhead = 256;

    /// <summary>The runs used longest ago go, until what is kept is within nine tenths of the bound.</summary>
    void Evict()
    {
        var target = capacity * 9 / 10;
        foreach (var (runId, entry) in entries.ToArray().OrderBy(e => e.Value.Used))
        {
            if (Interlocked.Read(ref size) + entries.Count * EntryOverhead <= target)
            {
                return;
            }

            if (entries.TryRemove(new KeyValuePair<string, Entry>(runId, entry)))
            {
                Interlocked.Add(ref size, -(entry.Image?.Size ?? 0));
            }
        }
    }

    static void CountLookup(string use, bool hit) =>
        Lookups.Add(1, new KeyValuePair<string, object?>("orchflow.known_runs.use", use), new KeyValuePair<string, object?>("orchflow.known_runs.outcome", hit ? "hit" : "miss"));

    /// <summary>One run as known here. <see cref="Used"/> moves on every use; the rest only by replacing the entry.</summary>
    sealed record Entry(string AccountId, RunMark Mark, long Stamp, RunImage? Image, (long Version, ETag ETag, long At)? Listing)
    {
        public long Used { get; set; } = Stamp;
    }
}
