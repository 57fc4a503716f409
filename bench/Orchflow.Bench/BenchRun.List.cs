using System.Diagnostics;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Orchflow.Domain;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    /// <summary>
    /// <c>GET /runs?limit=20</c> for an account of a few runs and one of many, each read one at a time. The runs are
    /// written straight into the host's tables by Orchflow's own run store, as completed runs a minute apart (starting
    /// 10,000 runs through the API would take most of the bench's time); the listing cannot tell them from runs the
    /// engine ran. The small account is read before the large one is seeded too, to show what the table's size alone
    /// does on Azurite.
    /// </summary>
    async Task ListPhaseAsync(OrchflowHost host, OrchflowApi api, CancellationToken cancellationToken)
    {
        const int limit = 20;
        var small = await api.RegisterAccountAsync(cancellationToken);
        var large = await api.RegisterAccountAsync(cancellationToken);
        var store = new TableRunStore(new OrchflowTables(Options.Create(new StorageOptions
        {
            ConnectionString = host.ConnectionString,
            TablePrefix = host.TablePrefix,
        })), TimeProvider.System, []);

        await SeedRunsAsync(store, small.AccountId, options.ListSmallRuns, cancellationToken);
        var samples = options.ListSamples;
        var smallEmpty = new Sample();
        await TimeListAsync(api, small.ApiKey, limit, 0, options.ListSmallRuns, new Sample(), 2, cancellationToken);
        await TimeListAsync(api, small.ApiKey, limit, 0, options.ListSmallRuns, smallEmpty, samples, cancellationToken);

        Say($"list: seeding {options.ListLargeRuns:N0} runs into one account through the run store");
        var seeding = Stopwatch.StartNew();
        await SeedRunsAsync(store, large.AccountId, options.ListLargeRuns, cancellationToken);
        Say($"list: seeded in {seeding.Elapsed.TotalSeconds:0.0} s; reading pages, {samples} of each in turn");

        Sample smallFull = new(), largeFirst = new(), largeDeep = new(), smallQuery = new(), largeQuery = new();
        var listing = new TableClient(host.ConnectionString, host.TablePrefix + "Runs");
        var offset = Math.Min(options.ListOffset, options.ListLargeRuns - limit);
        for (var round = -1; round < samples; round++)
        {
            // Round -1 warms each query up and is not kept.
            var keep = round >= 0;
            await TimeListAsync(api, small.ApiKey, limit, 0, options.ListSmallRuns, keep ? smallFull : new Sample(), 1, cancellationToken);
            await TimeListAsync(api, large.ApiKey, limit, 0, options.ListLargeRuns, keep ? largeFirst : new Sample(), 1, cancellationToken);
            await TimeListAsync(api, large.ApiKey, limit, offset, options.ListLargeRuns, keep ? largeDeep : new Sample(), 1, cancellationToken);
            await TimePageQueryAsync(listing, small.AccountId, limit, options.ListSmallRuns, keep ? smallQuery : new Sample(), cancellationToken);
            await TimePageQueryAsync(listing, large.AccountId, limit, options.ListLargeRuns, keep ? largeQuery : new Sample(), cancellationToken);
        }

        results.List = new ListResult(options.ListSmallRuns, options.ListLargeRuns, limit, offset, samples, seeding.Elapsed,
            smallEmpty, smallFull, largeFirst, largeDeep, smallQuery, largeQuery);
        Say($"list: limit={limit} p50 at {options.ListSmallRuns}: {smallFull.Median:0.0} ms (before seeding {smallEmpty.Median:0.0} ms); " +
            $"at {options.ListLargeRuns:N0}: {largeFirst.Median:0.0} ms; offset={offset}: {largeDeep.Median:0.0} ms; " +
            $"the page's query alone {smallQuery.Median:0.0} and {largeQuery.Median:0.0} ms");
    }

    /// <summary>Writes completed runs of one account, newest first a minute apart, through the store (its listing row included).</summary>
    static async Task SeedRunsAsync(TableRunStore store, string accountId, int count, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var definition = new RunDefinition("A run seeded by the bench.", [], [], [], false, null, null);
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var at = now - TimeSpan.FromMinutes(i + 1);
                await store.CreateAsync(new RunRecord
                {
                    RunId = Ids.NewRunId(at),
                    AccountId = accountId,
                    Status = RunStatus.Completed,
                    Definition = definition,
                    CreatedAt = at,
                    UpdatedAt = at,
                }, token);
            });
    }

    /// <summary>
    /// The first page's query as the listing sends it (the account's run rows, before its count rows), straight to the
    /// table from this process: what storage alone costs a page, with no API, count or mapping around it.
    /// </summary>
    static async Task TimePageQueryAsync(TableClient listing, string accountId, int limit, int total, Sample into, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {accountId} and RowKey lt {"~count"}");
        var started = Stopwatch.GetTimestamp();
        await foreach (var page in listing.QueryAsync<TableEntity>(filter, maxPerPage: limit, cancellationToken: cancellationToken).AsPages())
        {
            into.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (page.Values.Count != Math.Min(limit, total))
            {
                throw new InvalidOperationException($"The page query of {accountId} brought {page.Values.Count} rows.");
            }

            break;
        }
    }

    /// <summary>Reads one page <paramref name="times"/> times in a row, checking it is the page asked for.</summary>
    static async Task TimeListAsync(
        OrchflowApi api, string key, int limit, int offset, int total, Sample into, int times, CancellationToken cancellationToken)
    {
        for (var i = 0; i < times; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var page = await api.ListRunsAsync(key, limit, offset, cancellationToken);
            into.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (page.Total != total || page.Runs.Count != Math.Min(limit, Math.Max(0, total - offset)))
            {
                throw new InvalidOperationException($"GET /runs?limit={limit}&offset={offset} listed {page.Runs.Count} of a total {page.Total}; expected {total} in all.");
            }
        }
    }
}
