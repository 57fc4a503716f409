using System.Text;

namespace Orchflow.Bench;

/// <summary>Where a run's storage work goes: requests per run by Azurite and kind, and what Azurite spent on them.</summary>
public static partial class Report
{
    static void AppendStorage(StringBuilder md, StorageResult s)
    {
        var o = s.Orchflow;
        var w = s.OrchflowWatched ?? s.Orchflow;
        var b = s.Bare;
        md.AppendLine().AppendLine("### Where a run's storage work goes").AppendLine();
        md.AppendLine($"The host with its projection (Orchflow's tables) on one Azurite and its task hub on another, both with their access logs " +
                      $"read, then the bare engine alone on the second with a hub of its own; {s.Runs} runs of the plan above started at once on " +
                      "each side, simulated model at 0 ms. Each figure is the requests logged while the runs ran, less what the idle host (or " +
                      "engine) asked in as long, divided by the runs; the bench's own reads (a listing every 500 ms, one instance query every " +
                      "500 ms) are in them. \"Watched\": the same runs again on the same host, each read on its event stream (live output " +
                      "on) from its start to its end. Writing the access log costs Azurite CPU, so CPU here is above the throughput figure's.").AppendLine();
        md.AppendLine("| per run | Orchflow: projection | Orchflow: task hub | watched: projection | watched: task hub | bare: task hub |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var kind in StorageRequests.Kinds)
        {
            md.AppendLine($"| {kind} | {o.PerRun(o.Projection.Of(kind)):0.0} | {o.PerRun(o.Engine.Of(kind)):0.0} | {w.PerRun(w.Projection.Of(kind)):0.0} | " +
                          $"{w.PerRun(w.Engine.Of(kind)):0.0} | {b.PerRun(b.Engine.Of(kind)):0.0} |");
        }

        md.AppendLine($"| **all requests** | **{o.PerRun(o.Projection.Total):0.0}** | **{o.PerRun(o.Engine.Total):0.0}** | **{w.PerRun(w.Projection.Total):0.0}** | " +
                      $"**{w.PerRun(w.Engine.Total):0.0}** | **{b.PerRun(b.Engine.Total):0.0}** |");
        md.AppendLine($"| per agent task ({s.AgentTasks} a run) | {o.PerRun(o.Projection.Total) / s.AgentTasks:0.0} | {o.PerRun(o.Engine.Total) / s.AgentTasks:0.0} | " +
                      $"{w.PerRun(w.Projection.Total) / s.AgentTasks:0.0} | {w.PerRun(w.Engine.Total) / s.AgentTasks:0.0} | {b.PerRun(b.Engine.Total) / s.AgentTasks:0.0} |");
        md.AppendLine($"| Azurite CPU per run | {1000 * o.PerRun(o.Cpu.Of("projection Azurite")):0} ms | {1000 * o.PerRun(o.Cpu.Of("engine Azurite")):0} ms | " +
                      $"{1000 * w.PerRun(w.Cpu.Of("projection Azurite")):0} ms | {1000 * w.PerRun(w.Cpu.Of("engine Azurite")):0} ms | " +
                      $"{1000 * b.PerRun(b.Cpu.Of("engine Azurite")):0} ms |");
        md.AppendLine($"| Azurite CPU per request | {PerRequest(o.Cpu.Of("projection Azurite"), o.Projection.Total)} | " +
                      $"{PerRequest(o.Cpu.Of("engine Azurite"), o.Engine.Total)} | {PerRequest(w.Cpu.Of("projection Azurite"), w.Projection.Total)} | " +
                      $"{PerRequest(w.Cpu.Of("engine Azurite"), w.Engine.Total)} | {PerRequest(b.Cpu.Of("engine Azurite"), b.Engine.Total)} |");
        md.AppendLine($"| host (or engine) CPU per run | {1000 * o.PerRun(o.Cpu.Of("host")):0} ms (host: projection and engine) | | " +
                      $"{1000 * w.PerRun(w.Cpu.Of("host")):0} ms | | {1000 * b.PerRun(b.Cpu.Of("bench")):0} ms (bench process: engine) |");
        md.AppendLine($"| window | {o.Elapsed.TotalSeconds:0.0} s | | {w.Elapsed.TotalSeconds:0.0} s | | {b.Elapsed.TotalSeconds:0.0} s |");
    }

    static string PerRequest(double cpuSeconds, double requests) => requests <= 0 ? "—" : $"{1000 * cpuSeconds / requests:0.00} ms";
}
