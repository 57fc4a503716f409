using Azure.Data.Tables;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Erasure;

/// <summary>
/// Every stored row of one host that names something: its own tables and its task hub's (orchestration instances and
/// history), searched in keys and values, so a test can prove an erased thing is nowhere.
/// </summary>
static class StoredRows
{
    /// <summary>"table | partition | row" of every row whose keys or string values hold any of <paramref name="needles"/>.</summary>
    public static async Task<List<string>> MentioningAsync(OrchflowHost host, IReadOnlyCollection<string> needles)
    {
        // Secret names and Key Vault-safe names write ids with dashes.
        var variants = needles.SelectMany(n => new[] { n, n.Replace('_', '-') }).Distinct().ToList();
        var found = new List<string>();
        var service = new TableServiceClient(host.ConnectionString);
        await foreach (var table in service.QueryAsync())
        {
            if (!table.Name.StartsWith(host.TablePrefix, StringComparison.OrdinalIgnoreCase) &&
                !table.Name.StartsWith(host.TaskHub, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            await foreach (var row in service.GetTableClient(table.Name).QueryAsync<TableEntity>())
            {
                var texts = row.Select(p => p.Value as string).OfType<string>().Append(row.PartitionKey).Append(row.RowKey);
                if (texts.Any(t => variants.Any(v => t.Contains(v, StringComparison.Ordinal))))
                {
                    found.Add($"{table.Name} | {row.PartitionKey} | {row.RowKey}");
                }
            }
        }

        return found;
    }

    /// <summary>Waits until no row mentions the needles; fails listing those left when some still do after the timeout.</summary>
    public static async Task WaitUntilNoneMentionAsync(OrchflowHost host, IReadOnlyCollection<string> needles, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            var left = await MentioningAsync(host, needles);
            if (left.Count == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Still stored after erasure:\n{string.Join("\n", left)}");
            }

            await Task.Delay(250);
        }
    }
}
