using System.Diagnostics;
using System.Net.ServerSentEvents;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    /// <summary>
    /// Saturation: many runs started at once over several accounts, their completions taken from the host's timestamps.
    /// The client only lists each account's runs once a second, so it adds little load of its own. With
    /// <paramref name="watched"/>, each run's event stream is read from its start to its end, live output included, as
    /// a page watching it would: streaming on.
    /// </summary>
    async Task<ThroughputResult> ThroughputAsync(
        OrchflowHost host, OrchflowApi api, CancellationToken cancellationToken, bool watched = false, bool warmUp = false)
    {
        var keys = await LaneKeysAsync(api, cancellationToken);
        var name = warmUp ? "throughput warm-up (not measured)" : "throughput";
        Say($"{name}: {options.ThroughputRuns} Orchflow runs started at once over {keys.Length} accounts{(watched ? ", each watched on its event stream" : "")}");
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        watching.CancelAfter(TimeSpan.FromMinutes(6));
        var watchers = new List<Task<int>>();
        var roles = new Dictionary<int, string> { [host.Pid] = "host" };
        var before = ProcStats.Cpu();
        var peaks = new CpuPeaks(roles);
        var clock = Stopwatch.StartNew();
        var started = await Task.WhenAll(keys.Select(async (key, lane) =>
        {
            var ids = new List<string>();
            for (var i = lane; i < options.ThroughputRuns; i += keys.Length)
            {
                var id = (await api.StartRunAsync(key, options.Goal, null, cancellationToken)).RunId;
                ids.Add(id);
                if (watched)
                {
                    lock (watchers)
                    {
                        watchers.Add(Task.Run(() => CountDeltasAsync(api, key, id, watching.Token), watching.Token));
                    }
                }
            }

            return (Key: key, Ids: ids);
        }));

        while (true)
        {
            var lists = await Task.WhenAll(started.Select(lane => ListAllAsync(api, lane.Key, cancellationToken)));
            var statuses = lists.SelectMany(l => l).ToList();
            if (statuses.FirstOrDefault(r => r.Status is "failed" or "cancelled") is { } ended)
            {
                throw new InvalidOperationException($"Run {ended.RunId} ended {ended.Status} under load.");
            }

            if (statuses.Count(r => r.Status == "completed") == options.ThroughputRuns)
            {
                break;
            }

            if (clock.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException($"Only {statuses.Count(r => r.Status == "completed")} of {options.ThroughputRuns} runs completed in 5 minutes.");
            }

            await Task.Delay(1000, cancellationToken);
            peaks.Sample();
        }

        var cpu = ProcStats.Cpu().Since(before, roles);
        var elapsed = clock.Elapsed;
        // Each stream ends with its run; the deltas they carried show the output was streamed.
        var deltas = (await Task.WhenAll(watchers)).Sum();
        var runs = new List<(DateTimeOffset Created, DateTimeOffset Completed)>();
        foreach (var lane in started)
        {
            foreach (var id in lane.Ids)
            {
                var run = await api.GetRunAsync(lane.Key, id, cancellationToken);
                runs.Add((run.CreatedAt, run.UpdatedAt));
            }
        }

        var result = new ThroughputResult(options.ThroughputRuns, PerMinute(runs), results.Plan!.OrchflowActivities, elapsed, cpu, peaks)
        {
            Deltas = watched ? deltas : null,
        };
        Say($"{name}{(watched ? $" (watched, {deltas:N0} output deltas read)" : "")}: Orchflow {result.RunsPerMinute:0} runs/min, {result.ActivitiesPerSecond:0} activities/s; CPU {cpu.Describe("host", "Azurite", "bench")}; " +
            $"busiest second: host {100 * peaks.Of("host"):0}%, Azurite {100 * peaks.Of("Azurite"):0}% of one core");
        return result;
    }

    /// <summary>
    /// Live output against none: the throughput load unwatched, watched, watched, unwatched, each on a host of its own
    /// with a task hub and tables of its own. A load lands in tables the loads before it grew, and Azurite's range
    /// queries slow as its tables grow, so loads one after another on one host are not alike; the order puts the two
    /// kinds at the same mean place.
    /// </summary>
    async Task StreamingPhaseAsync(CancellationToken cancellationToken)
    {
        foreach (var watched in new[] { false, true, true, false })
        {
            await WithHostAsync(0, async (host, api, token) =>
            {
                // Two loads of the same kind unmeasured first: a fresh host's runtime is still compiling the code it runs hot
                // (tiered compilation) through the first one or two, and watching runs code an unwatched load never does.
                for (var i = 0; i < (options.Smoke ? 0 : 2); i++)
                {
                    await ThroughputAsync(host, api, token, watched, warmUp: true);
                }

                results.StreamingLoads.Add((watched, await ThroughputAsync(host, api, token, watched)));
            }, cancellationToken);
        }

        Say($"streaming: watched {results.WatchedRunsPerMinute:0} runs/min against unwatched {results.UnwatchedRunsPerMinute:0} " +
            $"({results.WatchedRunsPerMinute / results.UnwatchedRunsPerMinute:0.00}×), two fresh hosts each");
    }

    /// <summary>Reads a run's event stream until the host ends it with the run; returns the output deltas it carried.</summary>
    static async Task<int> CountDeltasAsync(OrchflowApi api, string key, string runId, CancellationToken cancellationToken)
    {
        using var response = await api.OpenEventStreamAsync(key, runId, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var deltas = 0;
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken))
        {
            deltas += item.EventType == "task.output.delta" ? 1 : 0;
        }

        return deltas;
    }

    /// <summary>The same load of the same graph on the bare engine, with empty activities.</summary>
    async Task<ThroughputResult> BareThroughputAsync(CancellationToken cancellationToken, bool warmUp = false)
    {
        var client = bare!.Client;
        var prefix = "tp" + Guid.NewGuid().ToString("N")[..8] + "-";
        var name = warmUp ? "throughput warm-up (not measured)" : "throughput";
        Say($"{name}: {options.ThroughputRuns} bare runs started at once");
        var before = ProcStats.Cpu();
        var peaks = new CpuPeaks(new Dictionary<int, string>());
        var clock = Stopwatch.StartNew();
        var input = new DagInput(results.Plan!.Nodes, 0, MaxParallel);
        await Task.WhenAll(Enumerable.Range(0, options.Lanes).Select(async lane =>
        {
            for (var i = lane; i < options.ThroughputRuns; i += options.Lanes)
            {
                await client.ScheduleNewOrchestrationInstanceAsync(nameof(DagOrchestrator), input,
                    new StartOrchestrationOptions(prefix + i), cancellationToken);
            }
        }));

        List<OrchestrationMetadata> instances;
        while (true)
        {
            instances = await QueryAsync(client, prefix, cancellationToken);
            if (instances.FirstOrDefault(i => i.RuntimeStatus is OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated) is { } ended)
            {
                throw new InvalidOperationException($"Bare orchestration {ended.InstanceId} ended {ended.RuntimeStatus} under load.");
            }

            if (instances.Count(i => i.RuntimeStatus == OrchestrationRuntimeStatus.Completed) == options.ThroughputRuns)
            {
                break;
            }

            if (clock.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException("The bare runs did not all complete in 5 minutes.");
            }

            await Task.Delay(1000, cancellationToken);
            peaks.Sample();
        }

        var cpu = ProcStats.Cpu().Since(before, new Dictionary<int, string>());
        var result = new ThroughputResult(options.ThroughputRuns, PerMinute(instances.Select(i => (i.CreatedAt, i.LastUpdatedAt)).ToList()),
            results.Plan.BareActivities, clock.Elapsed, cpu, peaks);
        Say($"{name}: bare {result.RunsPerMinute:0} runs/min, {result.ActivitiesPerSecond:0} activities/s; CPU {cpu.Describe("bench", "Azurite")}; " +
            $"busiest second: engine {100 * peaks.Of("bench"):0}%, Azurite {100 * peaks.Of("Azurite"):0}% of one core");
        return result;
    }

    static async Task<List<OrchestrationMetadata>> QueryAsync(DurableTaskClient client, string prefix, CancellationToken cancellationToken)
    {
        var all = new List<OrchestrationMetadata>();
        await foreach (var instance in client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = prefix, PageSize = 1000 })
                           .WithCancellation(cancellationToken))
        {
            all.Add(instance);
        }

        return all;
    }

    /// <summary>
    /// Runs per minute from the first run's creation to the last one's completion (backend timestamps). All runs start at
    /// once and move through their plans nearly in step, so completions bunch at the end: only the whole span is a rate.
    /// </summary>
    static double PerMinute(IReadOnlyList<(DateTimeOffset Created, DateTimeOffset Completed)> runs) =>
        runs.Count / (runs.Max(r => r.Completed) - runs.Min(r => r.Created)).TotalMinutes;
}
