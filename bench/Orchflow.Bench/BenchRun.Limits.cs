using System.Diagnostics;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Orchflow.Domain;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    /// <summary>The tables Orchflow's own code reads and writes, each under the host's prefix (the engine's are not among them).</summary>
    /// <summary>The limits every other phase's host runs at (<see cref="BenchHost"/> sets them): a key claims once, for 100,000 tokens.</summary>
    static readonly IReadOnlyDictionary<string, string> HighLimits = new Dictionary<string, string>
    {
        ["Orchflow__RateLimit__PerMinute"] = "1000000",
        ["Orchflow__RateLimit__Burst"] = "1000000",
        ["Orchflow__RateLimit__RegisterPerMinute"] = "1000000",
    };

    static readonly string[] OrchflowTableNames = ["Runs", "RunTasks", "Accounts", "Providers", "Secrets", "RateLimits", "Idempotency"];

    /// <summary>
    /// What rate limiting adds to a request: two hosts at once on the metered Azurite, one at the default limits of docs/api.md "Rate limits" and
    /// one with limits so high that each key claims from its shared bucket once, the same clients on each — many keys,
    /// each reading its own run at a steady rate under the default limit, so nothing is refused and the limiter only
    /// counts. Side by side, so whatever else the machine does weighs on both alike.
    /// </summary>
    async Task LimitsPhaseAsync(OrchflowHost high, OrchflowHost limited, CancellationToken cancellationToken)
    {
        Say($"limits: {options.LimitKeys} keys per host, each reading its run every {options.LimitPollInterval.TotalMilliseconds:0} ms, " +
            $"{options.LimitDuration.TotalSeconds:0} s measured, both hosts at once");
        var sides = await Task.WhenAll(
            PrepareLimitsAsync("default limits", limited, LoadSettings, cancellationToken),
            PrepareLimitsAsync("limits never reached", high, HighLimits.Concat(options.HostSettings).GroupBy(s => s.Key)
                .ToDictionary(g => g.Key, g => g.Last().Value), cancellationToken));

        // The window runs from just after the first look at the bucket rows to just before the second, so the reads, the
        // claims and the access log are all counted over the same span; the clients poll on through both looks.
        var warm = TimeSpan.FromSeconds(options.Smoke ? 0.5 : 3);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var polling = sides.Select(s => s.PollAsync(options.LimitPollInterval, stop.Token)).ToArray();
        await Task.Delay(warm, cancellationToken);
        var claimsBefore = await Task.WhenAll(sides.Select(s => s.ClaimsAsync(cancellationToken)));
        var from = Stopwatch.GetTimestamp();
        await Task.Delay(options.LimitDuration, cancellationToken);
        var to = Stopwatch.GetTimestamp();
        var claimsAfter = await Task.WhenAll(sides.Select(s => s.ClaimsAsync(cancellationToken)));
        await stop.CancelAsync();
        await Task.WhenAll(polling);

        var figures = sides.Select((s, i) => s.Figures(claimsAfter[i] - claimsBefore[i], from, to)).ToArray();
        foreach (var side in sides)
        {
            side.Dispose();
        }

        results.Limits = new LimitsResult(options.LimitKeys, options.LimitPollInterval, options.LimitDuration, figures[0], figures[1]);
        foreach (var f in figures)
        {
            Say($"limits: {f.Label}: p50 {f.Latency.Median:0.00} ms p99 {f.Latency.P99:0.0} ms over {f.Requests} reads, {f.Refused} refused; " +
                $"{f.Claims} claims ({f.ClaimOperationsPerRequest:0.000} storage operations per read), bucket requests {f.BucketRequestsPerRequest:0.000} " +
                $"and table requests {f.TableRequestsPerRequest:0.00} per read in Azurite's log");
        }
    }

    /// <summary>Registers the keys on one host and writes a run for each straight into its tables, and starts its meters.</summary>
    async Task<LimitsSide> PrepareLimitsAsync(string label, OrchflowHost host, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        var api = OrchflowApi.For(host.BaseAddress);
        var accounts = await Task.WhenAll(Enumerable.Range(0, options.LimitKeys).Select(_ => api.RegisterAccountAsync(cancellationToken)));
        var store = new TableRunStore(new OrchflowTables(Options.Create(new StorageOptions
        {
            ConnectionString = host.ConnectionString,
            TablePrefix = host.TablePrefix,
        })), TimeProvider.System, []);
        var clients = new List<(string Key, string RunId)>();
        foreach (var account in accounts)
        {
            var now = DateTimeOffset.UtcNow;
            var runId = Ids.NewRunId(now);
            await store.CreateAsync(new RunRecord
            {
                RunId = runId,
                AccountId = account.AccountId,
                Status = RunStatus.Completed,
                Definition = new RunDefinition("A run seeded by the bench.", [], [], [], false, null, null),
                CreatedAt = now,
                UpdatedAt = now,
            }, cancellationToken);
            clients.Add((account.ApiKey, runId));
        }

        var buckets = host.TablePrefix + "RateLimits";
        var tables = OrchflowTableNames.Select(t => host.TablePrefix + t).ToHashSet();
        // The bench's own look at the bucket rows is a query of the whole table, which the host never makes: left out.
        bool Bench(StorageRequest r) => r.Table == buckets && r.Resource.EndsWith("()", StringComparison.Ordinal);
        var bucketMeter = metered!.Count(r => r.Table == buckets && !Bench(r));
        var tableMeter = metered!.Count(r => r.Table is { } t && tables.Contains(t) && !Bench(r));
        var limits = settings.Where(s => s.Key.StartsWith("Orchflow__RateLimit__", StringComparison.Ordinal))
            .ToDictionary(s => s.Key, s => s.Value);
        return new LimitsSide(label, api, clients, new TableClient(host.ConnectionString, buckets), limits, metered!, bucketMeter, tableMeter);
    }

    sealed class LimitsSide(
        string label, OrchflowApi api, IReadOnlyList<(string Key, string RunId)> clients, TableClient buckets,
        IReadOnlyDictionary<string, string> limits, MeteredAzurite storage, MeteredAzurite.Meter bucketMeter, MeteredAzurite.Meter tableMeter) : IDisposable
    {
        readonly List<(long Started, double Ms, int Status)> reads = [];

        /// <summary>
        /// Each client reads its run on a fixed schedule (a late read is not made up for), from a random moment in the
        /// first interval, until stopped; every read is kept with the moment it was sent.
        /// </summary>
        public Task PollAsync(TimeSpan interval, CancellationToken stop) =>
            Task.WhenAll(clients.Select((client, i) => Task.Run(async () =>
            {
                var random = new Random(i);
                var step = (long)(interval.TotalSeconds * Stopwatch.Frequency);
                var next = Stopwatch.GetTimestamp() + (long)(random.NextDouble() * step);
                try
                {
                    while (true)
                    {
                        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                        if (wait > TimeSpan.Zero)
                        {
                            await Task.Delay(wait, stop);
                        }

                        var started = Stopwatch.GetTimestamp();
                        var status = await api.GetRunStatusCodeAsync(client.Key, client.RunId, stop);
                        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                        if (status is not (200 or 429))
                        {
                            throw new InvalidOperationException($"GET /runs/{client.RunId} answered {status} in the limits phase.");
                        }

                        lock (reads)
                        {
                            reads.Add((started, elapsed, status));
                        }

                        next = Math.Max(next + step, Stopwatch.GetTimestamp());
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // The phase is over.
                }
            }, CancellationToken.None)));

        /// <summary>Claims served so far by the buckets of the API keys (not the registration's per-address bucket).</summary>
        public async Task<long> ClaimsAsync(CancellationToken cancellationToken)
        {
            long claims = 0;
            await foreach (var row in buckets.QueryAsync<TableEntity>(select: ["PartitionKey", "Claims"], cancellationToken: cancellationToken))
            {
                if (row.PartitionKey.StartsWith("key-", StringComparison.Ordinal))
                {
                    claims += row.GetInt64("Claims") ?? 0;
                }
            }

            return claims;
        }

        /// <summary>The reads sent from <paramref name="from"/> to <paramref name="to"/>, and what storage saw meanwhile.</summary>
        public LimitsHost Figures(long claims, long from, long to)
        {
            List<(long Started, double Ms, int Status)> window;
            lock (reads)
            {
                window = reads.Where(r => r.Started >= from && r.Started <= to).ToList();
            }

            var latency = new Sample();
            latency.AddRange(window.Where(r => r.Status == 200).Select(r => r.Ms));
            return new LimitsHost(label, limits, latency, window.Count, window.Count(r => r.Status == 429), claims,
                bucketMeter.Between(from, to), tableMeter.Between(from, to));
        }

        public void Dispose()
        {
            storage.Stop(bucketMeter);
            storage.Stop(tableMeter);
        }
    }
}
