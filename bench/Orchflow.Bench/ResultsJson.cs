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
            ["overhead_per_task_ms"] = new JsonObject
            {
                ["orchflow"] = Ms(r.Overhead?.OrchflowPerTask.Median),
                ["bare"] = Ms(r.Overhead?.BarePerTask.Median),
            },
            ["throughput_runs_per_min"] = new JsonObject
            {
                ["orchflow"] = Ms(r.Throughput?.RunsPerMinute),
                ["bare"] = Ms(r.BareThroughput?.RunsPerMinute),
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
            },
            ["sse_event_latency_ms"] = new JsonObject
            {
                ["p50"] = Ms(r.Sse?.Many.Latency.Median),
                ["p99"] = Ms(r.Sse?.Many.Latency.P99),
                ["subscribers"] = r.Sse?.Many.Subscribers,
            },
        };
        return json.ToJsonString(Indented) + Environment.NewLine;
    }

    public static void Write(string file, BenchResults r) => File.WriteAllText(file, Of(r));
}
