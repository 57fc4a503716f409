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
        var pause = pieces.Count == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds((double)options.Value.LatencyMs / pieces.Count);
        foreach (var piece in pieces)
        {
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, clock, cancellationToken);
            }

            output.Append(piece);
        }
    }

    /// <summary>A word with the whitespace after it, so the pieces joined are the text exactly.</summary>
    [GeneratedRegex(@"\S*\s*")]
    private static partial Regex WordAndSpace();
}
