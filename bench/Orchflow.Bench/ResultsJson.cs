using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchflow.Bench;

/// <summary>
/// bench/results.json: the figures issue 15 sets targets on, each from this one run, under exactly the keys it names,
/// with the machine and the date. A figure whose phase did not run is null.
/// </summary>
public static class ResultsJson
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Of(BenchResults r)
    {
        static JsonNode? Ms(double? value) => value is double v && !double.IsNaN(v) ? JsonValue.Create(Math.Round(v, 1)) : null;

        var json = new JsonObject
        {
            ["machine"] = Report.Machine(),
            ["date"] = r.StartedAt.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"),
            ["topology"] = r.Topology,
            ["overhead_per_task_ms"] = new JsonObject
            {
                ["orchflow"] = Ms(r.Overhead?.OrchflowPerTask.Median),
                ["bare"] = Ms(r.Overhead?.BarePerTask.Median),
            },
            ["throughput_runs_per_min"] = new JsonObject
            {
                ["orchflow"] = Ms(r.Throughput?.RunsPerMinute),
                ["bare"] = Ms(r.BareThroughput?.RunsPerMinute),
                ["orchflow_streaming"] = Ms(r.WatchedRunsPerMinute),
                ["orchflow_unwatched_beside_streaming"] = Ms(r.UnwatchedRunsPerMinute),
            },
            ["get_run_p50_ms"] = new JsonObject
            {
                ["orchflow"] = Ms(r.Reads?.Http.Median),
                ["durable_status"] = Ms(r.Reads?.Durable.Median),
                ["not_modified"] = Ms(r.Conditional?.NotModified.Median),
            },
            ["list_runs_p50_ms"] = new JsonObject
            {
                ["at_10"] = Ms(r.List?.Small.Median),
                ["at_10000"] = Ms(r.List?.Large.Median),
                ["query_at_10"] = Ms(r.List?.SmallQuery.Median),
                ["query_at_10000"] = Ms(r.List?.LargeQuery.Median),
            },
            ["sse_event_latency_ms"] = new JsonObject
            {
                ["p50"] = Ms(r.Sse?.Many.Latency.Median),
                ["p99"] = Ms(r.Sse?.Many.Latency.P99),
                ["subscribers"] = r.Sse?.Many.Subscribers,
            },
            ["tool_call_ms"] = new JsonObject
            {
                ["orchflow"] = Ms(r.Tools?.Loop.Median),
                ["orchflow_p99"] = Ms(r.Tools?.Loop.P99),
                ["orchflow_model_5ms"] = Ms(r.Tools?.LoopSlowerModel?.Median),
                ["direct"] = Ms(r.Tools?.Direct.Median),
                ["direct_p99"] = Ms(r.Tools?.Direct.P99),
                ["calls"] = r.Tools?.Loop.Count,
                ["one_write"] = Ms(r.Tools?.Write.Median),
                ["one_batch"] = Ms(r.Tools?.Batch.Median),
                ["model_turnaround"] = Ms(r.Tools?.Turnaround.Median),
                ["target"] = Ms(r.Tools?.Target),
                ["floor"] = Ms(r.Tools?.Floor),
            },
            ["tool_approval_p50_ms"] = Ms(r.Tools?.Approval.Median),
            ["mcp_input_response_ms"] = new JsonObject
            {
                ["to_task_started_p50"] = Ms(r.Mcp?.Started.Median),
                ["to_task_started_p99"] = Ms(r.Mcp?.Started.P99),
                ["to_working_p50"] = Ms(r.Mcp?.Working.Median),
                ["answers"] = r.Mcp?.Started.Count,
            },
            ["output_delta_ms"] = new JsonObject
            {
                ["same_process_p50"] = Ms(r.Output?.SameProcess.Median),
                ["same_process_p99"] = Ms(r.Output?.SameProcess.P99),
                ["cross_process_p50"] = Ms(r.Output?.CrossProcess.Median),
                ["cross_process_p99"] = Ms(r.Output?.CrossProcess.P99),
            },
            ["abuse"] = new JsonObject
            {
                ["others_p99_ms_alone"] = Ms(r.Abuse?.Alone.Requests.Latency.P99),
                ["others_p99_ms_beside_abuser"] = Ms(r.Abuse?.Beside.Requests.Latency.P99),
                ["p99_ratio"] = r.Abuse is { } a ? Math.Round(a.P99Ratio, 2) : null,
                ["run_completed_p99_ratio"] = r.Abuse is { } b ? Math.Round(b.CompletedP99Ratio, 2) : null,
            },
            ["hostile_rss_mib"] = new JsonObject
            {
                ["idle"] = Ms(r.Hostile?.IdleMiB),
                ["most_above_idle"] = Ms(r.Hostile?.MostAboveIdleMiB),
            },
        };
        return json.ToJsonString(Indented) + Environment.NewLine;
    }

    public static void Write(string file, BenchResults r) => File.WriteAllText(file, Of(r));

    /// <summary>
    /// Writes into an existing results file only the figures of this run that are not null (the phases it ran), keeping
    /// every other figure, the machine and the date of the run that wrote them; the date of this run goes under
    /// <c>updated</c>, by phase.
    /// </summary>
    public static void Update(string file, BenchResults r, IEnumerable<string> phases)
    {
        var existing = File.Exists(file) ? JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? [] : [];
        var fresh = JsonNode.Parse(Of(r))!.AsObject();
        foreach (var (name, value) in fresh)
        {
            if (name is "machine" or "date" or "topology")
            {
                continue;
            }

            if (value is JsonObject figures)
            {
                var into = existing[name] as JsonObject ?? [];
                foreach (var (figure, number) in figures.Where(f => f.Value is not null))
                {
                    into[figure] = number!.DeepClone();
                }

                existing[name] = into;
            }
            else if (value is not null)
            {
                existing[name] = value.DeepClone();
            }
        }

        // When each phase's figures were last written, beside the full run's date.
        var updated = existing["updated"] as JsonObject ?? [];
        foreach (var phase in phases)
        {
            updated[phase] = fresh["date"]!.DeepClone();
        }

        existing["updated"] = updated;
        File.WriteAllText(file, existing.ToJsonString(Indented) + Environment.NewLine);
    }
}
