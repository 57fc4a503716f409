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

    /// <summary>
    /// Puts a text on a row in as many properties as it needs (<c>name</c>, <c>name2</c>, <c>name3</c>, …), for texts
    /// that belong to the row itself but may outgrow one property (a run's definition with long agent instructions).
    /// </summary>
    public static void SetProperty(Azure.Data.Tables.TableEntity row, string name, string text)
    {
        var parts = Split(text);
        for (var i = 0; i < parts.Count; i++)
        {
            row[i == 0 ? name : name + (i + 1)] = parts[i];
        }

        row[name + "Parts"] = parts.Count;
    }

    /// <summary>The text <see cref="SetProperty"/> wrote; rows written before it split texts have one part.</summary>
    public static string? GetProperty(Azure.Data.Tables.TableEntity row, string name)
    {
        var parts = row.GetInt32(name + "Parts") ?? 1;
        return parts == 1
            ? row.GetString(name)
            : string.Concat(Enumerable.Range(0, parts).Select(i => row.GetString(i == 0 ? name : name + (i + 1))));
    }
}
