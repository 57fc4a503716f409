using System.Text;

namespace Orchflow.Bench;

/// <summary>The host's memory while one tenant's endpoints answer to hurt it (issue 25).</summary>
public static partial class Report
{
    /// <summary>Issue 25's target: the host stays within this much resident memory above idle, whatever an endpoint answers.</summary>
    public const double HostileAboveIdleMiB = 300;

    static IEnumerable<Target> HostileTargets(BenchResults r)
    {
        if (r.Hostile is { Cases.Count: > 0 } h)
        {
            yield return new($"hostile endpoints: host resident memory ≤ {HostileAboveIdleMiB:0} MiB above idle", $"at most {h.MostAboveIdleMiB:0} MiB above",
                h.MostAboveIdleMiB / HostileAboveIdleMiB, 1, true);
        }
    }

    static void AppendHostile(StringBuilder md, BenchResults r)
    {
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
