using System.Text;

namespace Orchflow.Bench;

/// <summary>The figures of agents that act (tool calls, approvals) and of live output (deltas, throughput watched).</summary>
public static partial class Report
{
    /// <summary>Issue 24's targets: a word at a client within these, and throughput with every run watched at least this share of unwatched.</summary>
    public const double SameProcessDeltaMs = 50, CrossProcessDeltaMs = 300, StreamingThroughputShare = 0.95;

    static IEnumerable<Target> ActingTargets(BenchResults r)
    {
        if (r.Output is { } o)
        {
            yield return new($"live output, one process: word written → delta p50 ≤ {SameProcessDeltaMs:0} ms", $"{Number(o.SameProcess.Median)} ms",
                o.SameProcess.Median / SameProcessDeltaMs, 1, true);
            yield return new($"live output, two processes on one task hub: word written → delta p50 ≤ {CrossProcessDeltaMs:0} ms", $"{Number(o.CrossProcess.Median)} ms",
                o.CrossProcess.Median / CrossProcessDeltaMs, 1, true);
        }

        if (r.WatchedRunsPerMinute is { } on && r.UnwatchedRunsPerMinute is { } off)
        {
            yield return new($"throughput with every run watched ≥ {StreamingThroughputShare:0.00}× unwatched (fresh hosts, two loads each)",
                $"{on:N0} against {off:N0} runs/min", on / off, StreamingThroughputShare, false);
        }
    }

    static void AppendActing(StringBuilder md, BenchResults r)
    {
        if (r.Tools is null && r.Output is null && r.StreamingLoads.Count == 0 && r.Mcp is null)
        {
            return;
        }

        md.AppendLine().AppendLine("### Agents that act and live output").AppendLine();
        md.AppendLine("| figure | Orchflow | beside it | sample |");
        md.AppendLine("|---|---|---|---|");
        if (r.Tools is { } t)
        {
            md.AppendLine($"| one MCP call (server-everything `echo`), median / p99 | through the tool loop: {MsFine(t.Loop)} | the SDK's client from the " +
                          $"bench process: {MsFine(t.Direct)} ({Ratio(t.Loop.Median, t.Direct.Median)}) | {t.Loop.Count} calls each way; loop: the model " +
                          "server's answer asking for the call → the next turn's request with its result (the answer read, the call made, the request " +
                          "sent; its ask and outcome are recorded while the model is asked, and waited for before its answer is acted on) |");
            if (t.LoopSlowerModel is { } slower)
            {
                md.AppendLine($"| the same, the model answering each turn after 5 ms | through the tool loop: {MsFine(slower)} | target {Fine(t.Target)} ms | " +
                              $"{slower.Count} calls; the batch is written while the model takes its 5 ms, so no call waits for it |");
            }

            md.AppendLine($"| the same call's target and floor | target 1.5 × (direct + one storage write, {Fine(t.Write.Median)} ms): {Fine(t.Target)} ms | " +
                          $"floor with a model that answers at once, direct + one batch ({Fine(t.Batch.Median)} ms: the ask and the outcome) + the model's " +
                          $"turnaround ({Fine(t.Turnaround.Median)} ms: its answer read, the next turn sent): {Fine(t.Floor)} ms | {t.Write.Count} upserts of one " +
                          $"entity and {t.Batch.Count} four-row batches on the host's storage, one at a time; {t.Turnaround.Count} turns of Orchflow's model " +
                          "client alone, from the bench process |");
            md.AppendLine($"| a call a person approves, p50 | `/complete` sent → the call at the tool server: {Number(t.Approval.Median)} ms | — | " +
                          $"{t.Approval.Count} approvals, p99 {Number(t.Approval.P99)} ms |");
        }

        if (r.Mcp is { } m)
        {
            md.AppendLine($"| an MCP input response (`tasks/update`) → the run goes on, p50 / p99 | a task that waited for it started: {Number(m.Started.Median)} / " +
                          $"{Number(m.Started.P99)} ms | the client's `tasks/get` shows the task working: {Number(m.Working.Median)} ms (p50) | " +
                          $"{m.Started.Count} runs started with `start_run` as MCP tasks by the C# SDK's client (the simulated model at 0 ms), each answered once, 10 ms polls |");
        }

        if (r.Output is { } o)
        {
            md.AppendLine($"| live output, one process: word written → `task.output.delta` at an SSE client (p50 / p99) | {MsFine(o.SameProcess)} | — | " +
                          $"{o.SameProcess.Count} words of {o.Runs} runs, {o.Words} words each, one every {o.WordInterval.TotalMilliseconds:0} ms; {o.SameByCompletion} reached " +
                          "the client with `task.completed` instead of a delta and are timed to it |");
            md.AppendLine($"| live output, two hosts on one task hub, the stream read from the one that did not write (p50 / p99) | {MsFine(o.CrossProcess)} | — | " +
                          $"{o.CrossProcess.Count} words of {o.Runs} runs ({o.CrossWriters}); {o.CrossByCompletion} reached the client with `task.completed` " +
                          "instead of a delta and are timed to it |");
            md.AppendLine($"| storage requests of a task's live text per second it writes, two hosts | {o.TextWritesPerSecond:0.0} writes (the writer), " +
                          $"{o.TextReadsPerSecond:0.0} reads (the other host's stream) | — | Azurite's access log over the two-host runs ÷ their writing time |");
        }

        if (r.WatchedRunsPerMinute is { } on && r.UnwatchedRunsPerMinute is { } off)
        {
            var order = string.Join(", ", r.StreamingLoads.Select(l => $"{(l.Watched ? "watched" : "unwatched")} {l.Load.RunsPerMinute:N0}"));
            var deltas = r.StreamingLoads.Where(l => l.Watched).Sum(l => l.Load.Deltas ?? 0);
            md.AppendLine($"| throughput at saturation, model 0 ms, every run watched on its event stream | {on:N0} runs/min | " +
                          $"unwatched: {off:N0} runs/min ({Ratio(on, off)}); each load on a fresh host, after two unmeasured loads of its kind there, in this order: {order} | " +
                          $"{r.StreamingLoads[0].Load.Runs} runs started at once each; {deltas:N0} output deltas read |");
        }

        md.AppendLine();
        md.AppendLine("The model in these figures is the bench's loopback OpenAI-protocol server (`FakeChatServer` in Orchflow.Testing), set as " +
                      "each host's managed model; it stamps each word as it writes it, and each client stamps each delta as its parser hands it " +
                      "over, on the same clock. The two-host figure routes each host's model calls to a path of its own, so the bench knows " +
                      "which host wrote. \"Watched\" streams are `GET /runs/{id}/events` with live output on, opened as each run starts and " +
                      "read until the host ends them with the run.");
    }
}
