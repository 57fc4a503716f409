using System.Text.RegularExpressions;
using Orchflow.Abstractions;

namespace Orchflow.Models;

/// <summary>The simulated model writes as a real one streams: a few words at a time, spread over its configured latency.</summary>
public sealed partial class SimulatedRunModel
{
    /// <summary>At most this many pieces a text is written in, however long it is.</summary>
    const int MaxPieces = 60;

    async Task StreamAsync(string text, ITextSink output, CancellationToken cancellationToken)
    {
        var words = WordAndSpace().Matches(text).Select(m => m.Value).Where(w => w.Length > 0).ToList();
        var perPiece = Math.Max(1, (words.Count + MaxPieces - 1) / MaxPieces);
        var pieces = words.Chunk(perPiece).Select(piece => string.Concat(piece)).ToList();
        // Each piece is due at its share of the latency from the first one's start, so the call takes the latency it is set to:
        // pauses of their own would each overrun by a timer tick and a thread-pool hop, a call of 60 pieces by hundreds of ms.
        var started = clock.GetTimestamp();
        for (var i = 0; i < pieces.Count; i++)
        {
            var due = TimeSpan.FromMilliseconds((double)options.Value.LatencyMs * (i + 1) / pieces.Count);
            if (due - clock.GetElapsedTime(started) is var wait && wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, clock, cancellationToken);
            }

            output.Append(pieces[i]);
        }
    }

    /// <summary>A word with the whitespace after it, so the pieces joined are the text exactly.</summary>
    [GeneratedRegex(@"\S*\s*")]
    private static partial Regex WordAndSpace();
}
