namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// Splits long texts into pieces that fit a Table Storage string property (64 KiB, i.e. 32K UTF-16 units),
/// so outputs are stored whole rather than truncated.
/// </summary>
public static class TextChunks
{
    public const int MaxChunkLength = 30_000;

    public static IReadOnlyList<string> Split(string text)
    {
        if (text.Length <= MaxChunkLength)
        {
            return [text];
        }

        var chunks = new List<string>(text.Length / MaxChunkLength + 1);
        for (var start = 0; start < text.Length;)
        {
            var length = Math.Min(MaxChunkLength, text.Length - start);
            // Never split a surrogate pair across two properties.
            if (start + length < text.Length && char.IsHighSurrogate(text[start + length - 1]))
            {
                length--;
            }

            chunks.Add(text.Substring(start, length));
            start += length;
        }

        return chunks;
    }
}
