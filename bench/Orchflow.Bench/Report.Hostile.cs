using System.Text;

namespace Orchflow.Bench;

/// <summary>The host's memory while one tenant's endpoints answer to hurt it (issue 25).</summary>
public static partial class Report
{
    /// <summary>Issue 25's target: the host stays within this much resident memory above idle, whatever an endpoint answers.</summary>
    public const double HostileAboveIdleMiB = 300;

    /// <summary>Issue 25's target: beside one abusive account, the others' p99 is at most this many times what it is alone.</summary>
    public const double AbuseP99Ratio = 2;

    static IEnumerable<Target> HostileTargets(BenchResults r)
    {
        if (r.Abuse is { } a)
        {
            yield return new($"abuse: other accounts' p99 beside one abusive account ≤ {AbuseP99Ratio:0}× alone",
                $"{a.Beside.Requests.Latency.P99:0} ms against {a.Alone.Requests.Latency.P99:0} ms ({a.P99Ratio:0.00}×)", a.P99Ratio / AbuseP99Ratio, 1, true);
        }

        if (r.Hostile is { Cases.Count: > 0 } h)
        {
            yield return new($"hostile endpoints: host resident memory ≤ {HostileAboveIdleMiB:0} MiB above idle", $"at most {h.MostAboveIdleMiB:0} MiB above",
                h.MostAboveIdleMiB / HostileAboveIdleMiB, 1, true);
        }
    }

    static void AppendAbuse(StringBuilder md, BenchResults r)
    {
        if (r.Abuse is not { } a)
        {
            return;
        }

        md.AppendLine().AppendLine("### One abusive account among 200 clients").AppendLine();
        md.AppendLine("| the other accounts' clients | alone | beside the abuser |");
        md.AppendLine("|---|---|---|");
        md.AppendLine($"| requests in the window, served | {a.Alone.Requests.Served:N0} | {a.Beside.Requests.Served:N0} |");
        md.AppendLine($"| request p50 / p99 | {a.Alone.Requests.Latency.Median:0} / {a.Alone.Requests.Latency.P99:0} ms | {a.Beside.Requests.Latency.Median:0} / {a.Beside.Requests.Latency.P99:0} ms |");
        md.AppendLine($"| 429s they met | {a.Alone.Requests.Limited:N0} | {a.Beside.Requests.Limited:N0} |");
        md.AppendLine($"| run started → waiting on its human, p50 / p99 | {a.Alone.ToWaiting.Median:0} / {a.Alone.ToWaiting.P99:0} ms | {a.Beside.ToWaiting.Median:0} / {a.Beside.ToWaiting.P99:0} ms |");
        md.AppendLine($"| answered → completed, p50 / p99 | {a.Alone.ToCompleted.Median:0} / {a.Alone.ToCompleted.P99:0} ms | {a.Beside.ToCompleted.Median:0} / {a.Beside.ToCompleted.P99:0} ms |");
        md.AppendLine($"| runs started / completed in the window | {a.Alone.RunsStarted} / {a.Alone.RunsCompleted} | {a.Beside.RunsStarted} / {a.Beside.RunsCompleted} |");
        md.AppendLine($"| errors other than 429 | {a.Alone.Errors} | {a.Beside.Errors} |");
        md.AppendLine();
        md.AppendLine("The abuser, in the same window, waiting on no `Retry-After`: " +
                      string.Join(", ", a.Beside.Abuser.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} × {p.Value:N0}")) + ". " +
                      $"{BenchRun.StartFloods} loops start runs, {BenchRun.StreamFloods} hold its run's event stream open (the quota is 20 a caller), {BenchRun.KeyFloods} send " +
                      "invented keys. Both loads run the load phase's clients (40 accounts × 5, each polling its run once a second, the simulated model at 0 ms) " +
                      "on a fresh host at the default limits; the p99 is over the other clients' requests in the window, a 429's wait excluded.");
    }

    static void AppendHostile(StringBuilder md, BenchResults r)
    {
        AppendAbuse(md, r);
        if (r.Hostile is not { } h)
        {
            return;
        }

        md.AppendLine().AppendLine("### Hostile endpoints").AppendLine();
        md.AppendLine($"The host idle after a warm-up run: {h.IdleMiB:0} MiB resident (VmRSS).").AppendLine();
        md.AppendLine("| one tenant's endpoint answers with | host VmRSS as the run starts | peak while it goes | peak above idle | how it ended |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var c in h.Cases)
        {
            md.AppendLine($"| {c.Name} | {c.StartMiB:0} MiB | {c.PeakMiB:0} MiB | {c.AboveIdleMiB:+0;-0} MiB | {c.Outcome.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ")} |");
        }

        md.AppendLine();
        md.AppendLine("Each case is one run of a one-task plan on a registered `openai_compatible` provider (the bench's loopback model server), " +
                      "its task offered the tool server's `lookup` or `fetch_url` where the case is a tool's; the host's `/proc/<pid>/status` " +
                      "VmRSS is sampled every 20 ms from the run's start to its end; the cases run one after another on one host, whose heap " +
                      "keeps what an earlier case grew it by, so \"above idle\" includes them. The caps are the defaults (8 MiB of a model's answer, " +
                      "4 MiB of a tool server's, as sent and as decompressed); model requests time out after 5 s and tool calls after 5 s here " +
                      "so that the byte-a-second cases end soon.");
    }
}
