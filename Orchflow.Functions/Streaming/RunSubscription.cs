using Orchflow.Abstractions;

namespace Orchflow.Functions.Streaming;

/// <summary>
/// One client watching a run: the events it has not seen yet and, when it wants them, the text tasks write that it has
/// not been sent, as the run's feed gets them. A task already writing when it connects is sent its text so far first,
/// as one piece at offset 0; a task that starts writing anew is sent from offset 0 again.
/// </summary>
public sealed class RunSubscription : IDisposable
{
    readonly RunFeed feed;
    readonly bool output;
    readonly Action release;
    readonly Dictionary<string, (string Generation, int Sent)> sent = new(StringComparer.Ordinal);
    long position;
    int disposed;

    internal RunSubscription(RunFeed feed, long after, bool output, Action release)
    {
        this.feed = feed;
        this.output = output;
        this.release = release;
        position = after;
    }

    /// <summary>
    /// Whether the client has every event of the run, its last included, so nothing more will come: set by
    /// <see cref="NextAsync"/>. A client can have had the last event before it connected: an end logged elsewhere that
    /// this process's mark of the run had not caught up with when the stream opened.
    /// </summary>
    public bool Over { get; private set; }

    /// <summary>
    /// The next items, in order: events, then pieces of text; empty when none came within <paramref name="wait"/>, or
    /// at once when the subscription is <see cref="Over"/>.
    /// </summary>
    public async Task<IReadOnlyList<StreamItem>> NextAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            var (entries, texts, changed, over) = feed.After(position);
            if (over)
            {
                Over = true;
                return [];
            }

            var items = entries.Select(StreamItem.Of).Concat(output ? Deltas(texts) : []).ToList();
            if (entries.Count > 0)
            {
                position = entries[^1].Sequence;
            }

            if (items.Count > 0)
            {
                return items;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return [];
            }

            try
            {
                await changed.WaitAsync(left, cancellationToken);
            }
            catch (TimeoutException)
            {
                return [];
            }
        }
    }

    /// <summary>What this client has not been sent of each text: a writing it has not seen whole, from 0; one it follows, its new end.</summary>
    IEnumerable<StreamItem> Deltas(IReadOnlyList<LiveText> texts)
    {
        foreach (var text in texts)
        {
            var key = text.TaskId ?? "";
            var known = sent.TryGetValue(key, out var at);
            if (known && at.Generation == text.Generation)
            {
                if (text.Text.Length > at.Sent)
                {
                    sent[key] = (text.Generation, text.Text.Length);
                    yield return StreamItem.Of(new OutputDelta(text.TaskId, at.Sent, text.Text[at.Sent..]));
                }
            }
            else if (!text.Done || known)
            {
                // A task already writing, or one writing anew: its text so far, from the start.
                sent[key] = (text.Generation, text.Text.Length);
                if (text.Text.Length > 0)
                {
                    yield return StreamItem.Of(new OutputDelta(text.TaskId, 0, text.Text));
                }
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            release();
        }
    }
}
