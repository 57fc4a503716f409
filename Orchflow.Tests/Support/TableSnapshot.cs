using System.Globalization;
using Azure.Data.Tables;

namespace Orchflow.Tests.Support;

/// <summary>
/// Every row of one host's tables (accounts and trial counts, runs, tasks, providers, secrets…) with its ETag and
/// properties, so a test can prove that requests changed nothing stored. Tables a rate limiter or an idempotency
/// store keeps are left out: counting a rejected request is their job, not a change of state.
/// </summary>
public sealed class TableSnapshot
{
    static readonly string[] Excluded = ["RateLimit", "Idempotency"];

    readonly SortedDictionary<string, string> rows;

    TableSnapshot(IReadOnlyList<string> tables, SortedDictionary<string, string> rows)
    {
        Tables = tables;
        this.rows = rows;
    }

    /// <summary>The tables read, by full name.</summary>
    public IReadOnlyList<string> Tables { get; }

    public int RowCount => rows.Count;

    public static async Task<TableSnapshot> TakeAsync(string connectionString, string tablePrefix)
    {
        var service = new TableServiceClient(connectionString);
        var tables = new List<string>();
        var rows = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await foreach (var table in service.QueryAsync())
        {
            if (!table.Name.StartsWith(tablePrefix, StringComparison.OrdinalIgnoreCase) ||
                Excluded.Any(x => table.Name.Contains(x, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            tables.Add(table.Name);
            await foreach (var row in service.GetTableClient(table.Name).QueryAsync<TableEntity>())
            {
                var properties = row.Keys
                    .Where(k => k is not ("PartitionKey" or "RowKey" or "odata.etag"))
                    .Order(StringComparer.Ordinal)
                    .Select(k => $"{k}={Render(row[k])}");
                rows[$"{table.Name[tablePrefix.Length..]} | {row.PartitionKey} | {row.RowKey}"] =
                    $"etag {row.ETag}; " + string.Join("; ", properties);
            }
        }

        return new TableSnapshot(tables, rows);
    }

    /// <summary>Rows added, removed or changed (ETag or any property) since <paramref name="before"/>, one line each.</summary>
    public IReadOnlyList<string> ChangesSince(TableSnapshot before)
    {
        var changes = new List<string>();
        foreach (var (key, value) in rows)
        {
            if (!before.rows.TryGetValue(key, out var old))
            {
                changes.Add($"added   {key}: {Shorten(value)}");
            }
            else if (old != value)
            {
                changes.Add($"changed {key}:\n    was {Shorten(old)}\n    now {Shorten(value)}");
            }
        }

        changes.AddRange(before.rows.Keys.Where(k => !rows.ContainsKey(k)).Select(k => $"removed {k}"));
        return changes;
    }

    static string Render(object? value) => value switch
    {
        null => "null",
        byte[] bytes => "0x" + Convert.ToHexString(bytes),
        BinaryData data => "0x" + Convert.ToHexString(data.ToArray()),
        DateTimeOffset time => time.ToString("O", CultureInfo.InvariantCulture),
        DateTime time => time.ToString("O", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    static string Shorten(string text) => text.Length <= 400 ? text : text[..400] + $"… ({text.Length} chars)";
}
