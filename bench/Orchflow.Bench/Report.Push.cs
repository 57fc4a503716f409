using System.Text;

namespace Orchflow.Bench;

/// <summary>Issue 15's targets, and the figures of live streams, conditional reads, listings and rate limits.</summary>
public static partial class Report
{
    /// <summary>Event-log reads per second with many subscribers at most this many times those with one: "independent" of them.</summary>
    public const double IndependentWithin = 1.5;

    /// <summary>One of issue 15's targets: a ratio measured in this run against its bound.</summary>
    public sealed record Target(string Name, string Measured, double Ratio, double Bound, bool AtMost)
    {
        public bool Met => AtMost ? Ratio <= Bound : Ratio >= Bound;
    }

    /// <summary>The targets this run has the figures for: issue 15's, then those of agents that act and live output.</summary>
    public static IEnumerable<Target> Targets(BenchResults r) => PushTargets(r).Concat(ActingTargets(r)).Concat(HostileTargets(r));

    static IEnumerable<Target> PushTargets(BenchResults r)
    {
        if (r.Overhead is { } o)
        {
            yield return new("overhead per agent task (0 ms model) ≤ 1.5× bare", $"{Number(o.OrchflowPerTask.Median)} ms against {Number(o.BarePerTask.Median)} ms",
                o.OrchflowPerTask.Median / o.BarePerTask.Median, 1.5, true);
        }

        if (r.Throughput is { } t && r.BareThroughput is { } bt)
        {
            yield return new("throughput at saturation ≥ 0.7× bare", $"{t.RunsPerMinute:N0} against {bt.RunsPerMinute:N0} runs/min",
                t.RunsPerMinute / bt.RunsPerMinute, 0.7, false);
        }

        if (r.Reads is { } reads)
        {
            yield return new($"`GET /runs/{{id}}` p50, {reads.Pollers} pollers ≤ `GetInstanceAsync` p50",
                $"{Number(reads.Http.Median)} ms against {Number(reads.Durable.Median)} ms", reads.Http.Median / reads.Durable.Median, 1, true);
        }

        if (r.Conditional is { } c)
        {
            yield return new("a 304 poll ≤ 0.5× a full `GET /runs/{id}` (p50)", $"{Number(c.NotModified.Median)} ms against {Number(c.Full.Median)} ms",
                c.NotModified.Median / c.Full.Median, 0.5, true);
        }

        if (r.List is { } l)
        {
            yield return new($"`GET /runs?limit={l.Limit}` p50 at {l.LargeRuns:N0} runs ≤ 1.5× at {l.SmallRuns:N0}",
                $"{Number(l.Large.Median)} ms against {Number(l.Small.Median)} ms", l.Large.Median / l.Small.Median, 1.5, true);
        }

        if (r.Sse is { } s)
        {
            var many = s.Many;
            yield return new($"{many.Subscribers} SSE subscribers: state change → event p50 ≤ 250 ms", $"{Number(many.Latency.Median)} ms",
                many.Latency.Median / 250, 1, true);
            yield return new($"{many.Subscribers} SSE subscribers: state change → event p99 ≤ 1 s", $"{Number(many.Latency.P99)} ms",
                many.Latency.P99 / 1000, 1, true);
            yield return new($"storage reads per second independent of subscribers ({many.Subscribers} against 1; met within {IndependentWithin}×)",
                $"{many.LogReadsPerSecond:0.0}/s against {s.One.LogReadsPerSecond:0.0}/s", ReadsRatio(many.LogReadsPerSecond, s.One.LogReadsPerSecond),
                IndependentWithin, true);
        }
    }

    /// <summary>Many subscribers' reads against one's; none either way is as independent as can be.</summary>
    static double ReadsRatio(double many, double one) => one > 0 ? many / one : many > 0 ? double.PositiveInfinity : 1;

    static void AppendTargets(StringBuilder md, BenchResults r)
    {
        var targets = Targets(r).ToList();
        if (targets.Count == 0)
        {
            return;
        }

        md.AppendLine().AppendLine("Issue 15's targets, each a ratio of two figures of this run (or of a figure to its bound); how each is measured " +
                                   "is below:").AppendLine();
        md.AppendLine("| target | measured | ratio | met |");
        md.AppendLine("|---|---|---|---|");
        foreach (var t in targets)
        {
            md.AppendLine($"| {t.Name} | {t.Measured} | {Fine(t.Ratio)}× (bound {Fine(t.Bound)}×) | {(t.Met ? "**met**" : "**missed**")} |");
        }
    }

    static void AppendPush(StringBuilder md, BenchResults r)
    {
        if (r.Sse is { } s)
        {
            md.AppendLine().AppendLine($"### Live streams: {s.Many.Subscribers} subscribers on one run").AppendLine();
            md.AppendLine($"A host of its own on a second Azurite whose access log the bench reads (the main Azurite stays silent), simulated " +
                          $"model at {s.ModelLatencyMs} ms. The run is a plan the bench gives: {Plural(s.HumanSteps, "human task")}, each followed by an " +
                          "agent task, in one chain. Every subscriber opens `GET /runs/{id}/events` with `Accept: text/event-stream` (one " +
                          "connection each, read with `System.Net.ServerSentEvents.SseParser`) while the run waits on its first human and " +
                          $"replays the log so far; after {Seconds(s.Many.Idle)} with nothing changing, the bench answers each human task once " +
                          $"every subscriber has seen the run wait on it and {s.Gap.TotalMilliseconds:0} ms more have passed, until the run " +
                          "completes and the host closes the streams. Each answer moves the run through the same states: the answer's " +
                          "`task.completed` (written by the request), then the agent task's start, its end, the next human task's wait and the " +
                          "run's (written by the engine). **Latency** is each event's `created_at` (the host's clock when it wrote the change) " +
                          "to the moment the client's parser handed the event over (the same machine's clock), over every event after the " +
                          "replay at every client. **Storage reads** are the range reads of the run's event log (`PartitionKey eq '<run>' " +
                          "and RowKey gt '~~log~…'`) in Azurite's access log, per second of the time the run was changing; the host's own " +
                          "counter (`RunEventHub.Reads`) is not exposed outside its process. Every subscriber got every event once, in order " +
                          "(checked).").AppendLine();
            md.AppendLine("| subscribers | events timed | state change → event at the client (p50 / p99) | event-log reads while changing | " +
                          "… while idle | all connected and replayed in | status point reads (one per connect) |");
            md.AppendLine("|---|---|---|---|---|---|---|");
            foreach (var run in new[] { s.Many, s.One })
            {
                md.AppendLine($"| {run.Subscribers:N0} | {run.Events} over {Seconds(run.Active)} | {Ms(run.Latency)} ({run.Latency.Count:N0} deliveries) | " +
                              $"{run.LogReads} ({run.LogReadsPerSecond:0.0}/s) | {run.IdleLogReadsPerSecond:0.0}/s | {Seconds(run.Connect)} | {run.StatusReads:N0} |");
            }
        }

        if (r.Conditional is { } c)
        {
            md.AppendLine().AppendLine("### Conditional reads: a 304 poll beside a full read").AppendLine();
            md.AppendLine($"{c.Pollers} pollers for {Seconds(c.Duration)} each, as fast as answers come, over the same {c.Runs} completed runs on the " +
                          "same host: each conditional read sends `If-None-Match` with the run's current tag (taken from one full read of " +
                          "it before), so each answer is a `304` with no body, which the host decides with one point read of the run's status " +
                          "row; a full read reads the run's partition and sends the whole run." +
                          (c.FullFromReads ? " The full reads are the reads phase's, made just before." : "")).AppendLine();
            md.AppendLine("| read | p50 / p99 | reads per second |");
            md.AppendLine("|---|---|---|");
            md.AppendLine($"| `GET /runs/{{id}}` with `If-None-Match` → `304` | {Ms(c.NotModified)} | {c.NotModifiedPerSecond:N0}/s |");
            md.AppendLine($"| `GET /runs/{{id}}` → `200` | {Ms(c.Full)} | {c.FullPerSecond:N0}/s |");
        }

        if (r.List is { } l)
        {
            md.AppendLine().AppendLine($"### Listing runs: an account of {l.SmallRuns:N0} and one of {l.LargeRuns:N0}").AppendLine();
            md.AppendLine($"Completed runs written straight into the host's tables by Orchflow's `TableRunStore.CreateAsync` (the large account's " +
                          $"{l.LargeRuns:N0} in {Seconds(l.Seeding)}, 16 at a time), then `GET /runs?limit={l.Limit}` read one request at a time, " +
                          $"{l.Samples} times each in turn after one unmeasured round. The small account was also read before the large one " +
                          "was seeded, while the table was small: on Azurite a query's cost also grows with the table it searches, which Table " +
                          "Storage's partitions do not.").AppendLine();
            md.AppendLine("| page | p50 / p99 |");
            md.AppendLine("|---|---|");
            md.AppendLine($"| {l.SmallRuns:N0} runs, first page, before the large account was seeded | {Ms(l.SmallEmpty)} |");
            md.AppendLine($"| {l.SmallRuns:N0} runs, first page | {Ms(l.Small)} |");
            md.AppendLine($"| {l.LargeRuns:N0} runs, first page | {Ms(l.Large)} |");
            md.AppendLine($"| {l.LargeRuns:N0} runs, `offset={l.Offset:N0}` | {Ms(l.LargeOffset)} |");
            md.AppendLine($"| the first page's query alone, straight to the table from the bench process: {l.SmallRuns:N0} runs / {l.LargeRuns:N0} | " +
                          $"{Number(l.SmallQuery.Median)} / {Number(l.LargeQuery.Median)} ms ({l.LargeQuery.Median / l.SmallQuery.Median:0.00}×) |");
        }

        if (r.Limits is { } lim)
        {
            var d = lim.Default;
            var h = lim.High;
            md.AppendLine().AppendLine("### What rate limiting adds per request").AppendLine();
            md.AppendLine($"Two hosts at once on the second Azurite, one at {LimitsOf(d.Limits)} and one at {LimitsOf(h.Limits)} (its bucket so large " +
                          $"that each key claims from storage once, before the timed window). On each, {lim.Keys} API keys each read a run of " +
                          $"their own (written through the run store) every {lim.Interval.TotalMilliseconds:0} ms — {1000 / lim.Interval.TotalMilliseconds:0.#} a second, " +
                          $"under the default {(d.Limits.TryGetValue("Orchflow__RateLimit__PerMinute", out var pm) && double.TryParse(pm, out var perMinute) ? (perMinute / 60).ToString("0.#", Invariant) : "limit")} — for {Seconds(lim.Duration)} after a short warm-up, so the limiter only counts. **Claims** " +
                          "are the bucket rows' own count over the window (`Claims` in `<prefix>RateLimits`): each claim is one read and one " +
                          "ETag-guarded write, so storage operations per read are 2 × claims ÷ reads. A claim that finds the bucket empty " +
                          "writes nothing and is not counted there; Azurite's access log counts every request to the bucket table, those " +
                          "reads included, and every request to the host's own tables.").AppendLine();
            md.AppendLine("| host limits | `GET /runs/{id}` p50 / p99 | reads timed | refused (429) | claims | storage operations per read (2 × claims) | " +
                          "bucket-table requests per read (access log) | requests to Orchflow's tables per read (access log) |");
            md.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var host in new[] { d, h })
            {
                md.AppendLine($"| {host.Label}: {LimitsOf(host.Limits)} | {MsFine(host.Latency)} | {host.Requests:N0} | {host.Refused:N0} | {host.Claims:N0} | " +
                              $"{Fine(host.ClaimOperationsPerRequest)} | {Fine(host.BucketRequestsPerRequest)} | {Fine(host.TableRequestsPerRequest)} |");
            }

            md.AppendLine().AppendLine($"Limiting at the defaults adds {Fine(d.Latency.Median - h.Latency.Median)} ms to a read at the median " +
                                       $"({Fine(d.Latency.P99 - h.Latency.P99)} ms at p99) and {Fine(d.ClaimOperationsPerRequest - h.ClaimOperationsPerRequest)} " +
                                       "storage operations per read, by the bucket rows' own count.");
        }
    }

    static string LimitsOf(IReadOnlyDictionary<string, string> limits) =>
        limits.TryGetValue("Orchflow__RateLimit__PerMinute", out var perMinute) && limits.TryGetValue("Orchflow__RateLimit__Burst", out var burst)
            ? $"{Count(perMinute)} a minute per key, burst {Count(burst)}"
            : "the bench's limits";

    static string Count(string value) => long.TryParse(value, out var n) ? n.ToString("N0", Invariant) : value;

    static string MsFine(Sample s) => $"{Fine(s.Median)} / {Fine(s.P99)} ms";

    /// <summary>Two decimals below 10, for ratios and small differences; whole numbers above.</summary>
    static string Fine(double value) =>
        double.IsNaN(value) || double.IsInfinity(value) ? "—" : value.ToString(Math.Abs(value) < 10 ? "0.00" : "N0", Invariant);
}
