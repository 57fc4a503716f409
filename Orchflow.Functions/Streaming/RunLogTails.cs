using Orchflow.Domain;

namespace Orchflow.Functions.Streaming;

/// <summary>
/// The logs of the runs going on that this process logged from their first event, as it logged them, so a stream opened
/// on such a run starts from memory instead of reading the log's first page from storage. A log held here is always a
/// prefix of the run's log: one that another instance added to in between (a gap) is dropped, and a feed started from
/// a prefix still probes storage for what follows it. A run's log goes with its last event (a stream of an ended run
/// reads storage, as before); the runs logged to least recently make way once <see cref="MaxRuns"/> are held or their
/// events' data passes <see cref="MaxChars"/> (feedback, prompts and forms are the clients' own, and may be long), and a
/// log longer than a page is left to storage. Not thread-safe: the hub calls it under its lock.
/// </summary>
sealed class RunLogTails
{
    /// <summary>Runs held at most: runs going on at once in one instance, with a few dozen small events each.</summary>
    internal const int MaxRuns = 1_000;

    /// <summary>Events held of one run at most: a longer log is read from storage, a page at a time.</summary>
    internal const int MaxEntries = 1_000;

    /// <summary>The events' data held at most, in characters of its JSON, all runs together.</summary>
    internal const long MaxChars = 4_000_000;

    readonly Dictionary<string, LinkedListNode<Tail>> byRun = new(StringComparer.Ordinal);

    /// <summary>Least recently logged first.</summary>
    readonly LinkedList<Tail> byUse = new();

    long chars;

    public int Count => byRun.Count;

    /// <summary>The events' data held, in characters of its JSON.</summary>
    public long Chars => chars;

    /// <summary>Events this process has just logged, in order.</summary>
    public void Logged(string runId, IReadOnlyList<RunLogEntry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        if (byRun.TryGetValue(runId, out var node))
        {
            var log = node.Value.Log;
            var fresh = entries.Where(e => e.Sequence > log[^1].Sequence).ToList();
            if (fresh.Count == 0)
            {
                return;
            }

            if (fresh[0].Sequence != log[^1].Sequence + 1 || log.Count + fresh.Count > MaxEntries || fresh[^1].IsTerminal)
            {
                // Logged elsewhere in between, too long to keep, or ended: storage has it.
                Drop(node);
                return;
            }

            Add(node.Value, fresh);
            byUse.Remove(node);
            byUse.AddLast(node);
        }
        else if (entries[0].Sequence == 1 && entries.Count <= MaxEntries && !entries[^1].IsTerminal)
        {
            // Begun here; a run begun elsewhere was never seen whole by this process.
            var tail = new Tail(runId);
            Add(tail, entries);
            byRun[runId] = byUse.AddLast(tail);
        }

        while (byUse.First is { } oldest && (byRun.Count > MaxRuns || chars > MaxChars))
        {
            Drop(oldest);
        }
    }

    /// <summary>The run's log from its first event as this process logged it; empty when it holds none.</summary>
    public IReadOnlyList<RunLogEntry> Of(string runId) =>
        byRun.TryGetValue(runId, out var node) ? node.Value.Log.ToList() : [];

    void Add(Tail tail, IReadOnlyList<RunLogEntry> entries)
    {
        var added = entries.Sum(e => (long)e.Data.ToJsonString().Length);
        tail.Log.AddRange(entries);
        tail.Chars += added;
        chars += added;
    }

    void Drop(LinkedListNode<Tail> node)
    {
        byRun.Remove(node.Value.RunId);
        byUse.Remove(node);
        chars -= node.Value.Chars;
    }

    sealed class Tail(string runId)
    {
        public string RunId { get; } = runId;

        public List<RunLogEntry> Log { get; } = [];

        public long Chars { get; set; }
    }
}
