using System.Security.Cryptography;
using Azure.Data.Tables;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// Long texts (task outputs, the final output) on the row they belong to: inline when they fit one property, else as
/// chunk rows beside it. Chunks are keyed by a generation of their own and never overwritten, so a writer that loses
/// the row's ETag race cannot clobber the text of the one that won.
/// </summary>
static class StoredTexts
{
    static readonly string[] Columns = ["Output", "OutputChunks", "OutputGeneration"];

    /// <summary>Puts <paramref name="text"/> on <paramref name="owner"/> (null: no text), returning the chunk rows to write first.</summary>
    public static List<TableEntity> Place(TableEntity owner, string? text)
    {
        owner.Remove("Output");
        owner.Remove("OutputGeneration");
        owner["OutputChunks"] = 0;
        if (text is null)
        {
            return [];
        }

        var chunks = TextChunks.Split(text);
        if (chunks.Count == 1)
        {
            owner["Output"] = text;
            return [];
        }

        var generation = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        owner["OutputChunks"] = chunks.Count;
        owner["OutputGeneration"] = generation;
        return chunks.Select((c, i) => new TableEntity(owner.PartitionKey, ChunkKey(owner.RowKey, generation, i)) { ["Text"] = c }).ToList();
    }

    /// <summary>The text columns of <paramref name="from"/>, carried onto the row that replaces it.</summary>
    public static void Carry(TableEntity from, TableEntity to)
    {
        foreach (var column in Columns)
        {
            if (from.TryGetValue(column, out var value) && value is not null)
            {
                to[column] = value;
            }
        }
    }

    /// <summary>The text on <paramref name="row"/>, from its chunk rows in <paramref name="rows"/> when it has any.</summary>
    public static string? Read(TableEntity row, IReadOnlyDictionary<string, TableEntity> rows)
    {
        var chunks = row.GetInt32("OutputChunks") ?? 0;
        if (chunks == 0)
        {
            return row.GetString("Output");
        }

        return string.Concat(Enumerable.Range(0, chunks).Select(i =>
            rows.TryGetValue(ChunkKey(row.RowKey, row.GetString("OutputGeneration"), i), out var chunk)
                ? chunk.GetString("Text")
                : throw new InvalidOperationException($"Chunk {i} of {row.PartitionKey}/{row.RowKey} is missing.")));
    }

    /// <summary>Rough characters the text of <paramref name="row"/> holds in memory.</summary>
    public static long Length(TableEntity row) => row.GetString("Output")?.Length ?? row.GetString("Text")?.Length ?? 0;

    /// <summary>A chunk's row key; rows written before chunks had generations have none.</summary>
    static string ChunkKey(string key, string? generation, int index) =>
        generation is null ? $"{key}~{index:D4}" : $"{key}~{generation}~{index:D4}";
}
