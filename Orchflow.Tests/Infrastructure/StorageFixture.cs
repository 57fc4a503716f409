using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>Tables of their own on the shared Azurite, so a test class sees only the rows it wrote.</summary>
public static class StorageFixture
{
    public static string NewTablePrefix() => "t" + Guid.NewGuid().ToString("N")[..12];

    public static OrchflowTables NewTables(string? prefix = null) =>
        new(Options.Create(new StorageOptions
        {
            ConnectionString = TestEnvironment.Azurite.ConnectionString,
            TablePrefix = prefix ?? NewTablePrefix(),
        }));

    /// <summary>
    /// "table | partition | row" (the table without its prefix) of every row of the prefix's tables whose keys or string
    /// values hold any of the ids, as written or with dashes (as secret names write them).
    /// </summary>
    public static async Task<List<string>> RowsNamingAsync(string prefix, params string[] ids)
    {
        var service = new TableServiceClient(TestEnvironment.Azurite.ConnectionString);
        var rows = new List<string>();
        var needles = ids.SelectMany(id => new[] { id, id.Replace('_', '-') }).ToList();
        await foreach (var table in service.QueryAsync(t => t.Name.CompareTo(prefix) >= 0 && t.Name.CompareTo(prefix + "~") < 0))
        {
            await foreach (var row in service.GetTableClient(table.Name).QueryAsync<TableEntity>())
            {
                var texts = row.Select(p => p.Value as string).OfType<string>().Append(row.PartitionKey).Append(row.RowKey);
                if (texts.Any(t => needles.Any(n => t.Contains(n, StringComparison.Ordinal))))
                {
                    rows.Add($"{table.Name[prefix.Length..]} | {row.PartitionKey} | {row.RowKey}");
                }
            }
        }

        return rows;
    }
}
