using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;
using Orchflow.Infrastructure.Storage;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Erasure;

/// <summary>
/// Everything one host stored that names something: every table of <see cref="OrchflowTables.All"/> (a table of the
/// host's prefix missing from that list fails the search, so a table added later cannot escape it), its task hub's
/// tables (orchestration instances, history, partitions) and the names of its task hub's blobs (large messages), searched
/// in keys and values, so a test can prove an erased thing is nowhere.
/// </summary>
static class StoredRows
{
    /// <summary>"table | partition | row" of every row (or "blob | container | name") holding any of <paramref name="needles"/>.</summary>
    public static async Task<List<string>> MentioningAsync(OrchflowHost host, IReadOnlyCollection<string> needles)
    {
        // Secret names and Key Vault-safe names write ids with dashes.
        var variants = needles.SelectMany(n => new[] { n, n.Replace('_', '-') }).Distinct().ToList();
        bool Names(string text) => variants.Any(v => text.Contains(v, StringComparison.Ordinal));

        var found = new List<string>();
        var service = new TableServiceClient(host.ConnectionString);
        foreach (var table in await TablesAsync(host, service))
        {
            await foreach (var row in service.GetTableClient(table).QueryAsync<TableEntity>())
            {
                if (row.Select(p => p.Value as string).OfType<string>().Append(row.PartitionKey).Append(row.RowKey).Any(Names))
                {
                    found.Add($"{table} | {row.PartitionKey} | {row.RowKey}");
                }
            }
        }

        var blobs = new BlobServiceClient(host.ConnectionString);
        await foreach (var container in blobs.GetBlobContainersAsync(prefix: host.TaskHub.ToLowerInvariant()))
        {
            await foreach (var blob in blobs.GetBlobContainerClient(container.Name).GetBlobsAsync())
            {
                if (Names(blob.Name))
                {
                    found.Add($"blob | {container.Name} | {blob.Name}");
                }
            }
        }

        return found;
    }

    /// <summary>
    /// The app's tables as <see cref="OrchflowTables"/> names them, and the task hub's; fails naming any table of the
    /// host's prefix that the app's list does not hold.
    /// </summary>
    static async Task<List<string>> TablesAsync(OrchflowHost host, TableServiceClient service)
    {
        var known = new OrchflowTables(Options.Create(new StorageOptions { ConnectionString = host.ConnectionString, TablePrefix = host.TablePrefix }))
            .All.Select(t => t.Name).ToList();
        var tables = new List<string>(known);
        await foreach (var table in service.QueryAsync())
        {
            if (table.Name.StartsWith(host.TaskHub, StringComparison.OrdinalIgnoreCase))
            {
                tables.Add(table.Name);
            }
            else if (table.Name.StartsWith(host.TablePrefix, StringComparison.OrdinalIgnoreCase) &&
                     !known.Contains(table.Name, StringComparer.OrdinalIgnoreCase))
            {
                Assert.Fail($"Table {table.Name} is not in OrchflowTables.All: erasure cannot know what it holds.");
            }
        }

        return tables;
    }

    /// <summary>Waits until nothing mentions the needles; fails listing what is left when something still does after the timeout.</summary>
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
