using System.Diagnostics;

namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    /// <summary>
    /// Concurrent pollers reading completed runs' status for a while: through the API (the projection), then through the
    /// durable client (<c>GetInstanceAsync</c>) of a sidecar over the host's own task hub.
    /// </summary>
    async Task<ReadsResult> ReadsAsync(OrchflowHost host, OrchflowApi api, string key, IReadOnlyList<string> runIds, CancellationToken cancellationToken)
    {
        Say($"reads: {options.ReadPollers} pollers × {options.ReadDuration.TotalSeconds:0} s on GET /runs/{{id}}");
        var http = await PollAsync(id => api.GetRunAsync(key, id, cancellationToken), runIds, cancellationToken);

        Say($"reads: {options.ReadPollers} pollers × {options.ReadDuration.TotalSeconds:0} s on GetInstanceAsync, same hub");
        await using var reader = await DurableStack.StartAsync(
            ConnectionString, host.TaskHub, DurableSettings.For(options.HostSettings), runWorker: false, cancellationToken);
        var durable = await PollAsync(id => reader.Client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken), runIds, cancellationToken);

        var result = new ReadsResult(options.ReadPollers, options.ReadDuration, http.Latency, http.PerSecond, durable.Latency, durable.PerSecond);
        Say($"reads: GET /runs/{{id}} p50 {result.Http.Median:0.0} ms p99 {result.Http.P99:0.0} ms ({result.HttpPerSecond:0}/s); " +
            $"GetInstanceAsync p50 {result.Durable.Median:0.0} ms p99 {result.Durable.P99:0.0} ms ({result.DurablePerSecond:0}/s)");
        return result;
    }

    /// <summary>Each poller reads a random run, as fast as answers come, for the read duration (after a short unmeasured warm-up).</summary>
    async Task<(Sample Latency, double PerSecond)> PollAsync<T>(Func<string, Task<T>> read, IReadOnlyList<string> runIds, CancellationToken cancellationToken)
    {
        async Task<Sample> Pollers(TimeSpan duration)
        {
            var latency = new Sample();
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, options.ReadPollers).Select(async poller =>
            {
                var random = new Random(poller);
                var times = new List<double>();
                while (clock.Elapsed < duration)
                {
                    var started = Stopwatch.GetTimestamp();
                    _ = await read(runIds[random.Next(runIds.Count)]) ?? throw new InvalidOperationException("A completed run could not be read.");
                    times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }

                latency.AddRange(times);
            }));
            return latency;
        }

        await Pollers(TimeSpan.FromSeconds(1));
        var measured = await Pollers(options.ReadDuration);
        return (measured, measured.Count / options.ReadDuration.TotalSeconds);
    }
}
