namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    /// <summary>
    /// The reads phase's pollers, runs and duration again, each read sent with <c>If-None-Match</c> and the run's current
    /// tag, so every answer is a 304 with no body (docs/api.md "Conditional reads": decided by one point read of the run's
    /// status). The full reads it is set beside are the reads phase's, made just before on the same host and runs;
    /// without that phase they are measured here.
    /// </summary>
    async Task<ConditionalResult> ConditionalAsync(OrchflowApi api, string key, IReadOnlyList<string> runIds, CancellationToken cancellationToken)
    {
        var tags = new Dictionary<string, string>();
        foreach (var id in runIds)
        {
            tags[id] = await api.GetRunTagAsync(key, id, cancellationToken);
        }

        Say($"conditional: {options.ReadPollers} pollers × {options.ReadDuration.TotalSeconds:0} s on GET /runs/{{id}} with If-None-Match (304s)");
        var notModified = await PollAsync(id => api.GetRunUnchangedAsync(key, id, tags[id], cancellationToken), runIds, cancellationToken);

        var fromReads = results.Reads is not null;
        var (full, fullPerSecond) = results.Reads is { } reads
            ? (reads.Http, reads.HttpPerSecond)
            : await PollAsync(id => api.GetRunAsync(key, id, cancellationToken), runIds, cancellationToken);
        var result = new ConditionalResult(options.ReadPollers, options.ReadDuration, runIds.Count, notModified.Latency, notModified.PerSecond,
            full, fullPerSecond, fromReads);
        Say($"conditional: 304 p50 {result.NotModified.Median:0.0} ms p99 {result.NotModified.P99:0.0} ms ({result.NotModifiedPerSecond:0}/s); " +
            $"full GET p50 {result.Full.Median:0.0} ms p99 {result.Full.P99:0.0} ms ({result.FullPerSecond:0}/s)");
        return result;
    }
}
