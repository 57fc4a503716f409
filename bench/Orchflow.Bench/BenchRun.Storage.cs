using System.Diagnostics;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    /// <summary>
    /// What one run asks of storage, and what that costs Azurite: the host with its projection on one metered Azurite and
    /// its task hub on another, then the bare engine alone on the second with a hub of its own. The runs start together;
    /// every request of the window is counted by where it went and what it did, less what the idle host asks in as long.
    /// </summary>
    async Task StoragePhaseAsync(CancellationToken cancellationToken)
    {
        Say("storage: two more Azurites, their access logs read: one for the projection, one for the task hubs");
        await using var projection = await MeteredAzurite.StartAsync();
        await using var engine = await MeteredAzurite.StartAsync();
        var settings = new Dictionary<string, string>(options.HostSettings) { [TaskHubStorageSetting] = engine.ConnectionString };
        var runs = options.StorageRuns;

        StorageCount? orchflow = null;
        StorageCount? watched = null;
        IReadOnlyList<PlanNode> nodes = [];
        await WithHostAsync(0, async (host, api, token) =>
        {
            var key = await api.RegisterAsync(token);
            var warm = await RunToCompletionAsync(api, key, options.Goal, TimeSpan.FromSeconds(20), token);
            nodes = warm.Subtasks.Values.Select(t => new PlanNode(t.TaskId, t.Kind == "agent", t.DependsOn)).ToList();
            var roles = new Dictionary<int, string> { [host.Pid] = "host" };
            Say($"storage: {runs} Orchflow runs started at once");
            orchflow = await CountAsync(projection, engine, roles, () => RunAllAsync(api, key, watch: false, token), token);
            Say($"storage: {runs} Orchflow runs started at once, each watched on its event stream");
            watched = await CountAsync(projection, engine, roles, () => RunAllAsync(api, key, watch: true, token), token);
        }, cancellationToken, settings, projection.ConnectionString);

        await using var stack = await DurableStack.StartAsync(
            engine.ConnectionString, "benchstore" + Guid.NewGuid().ToString("N")[..8], DurableSettings.For(options.HostSettings), runWorker: true,
            cancellationToken);
        var input = new DagInput(nodes, 0, MaxParallel);
        await BareRunsAsync(stack.Client, input, "warm-", 1, cancellationToken);
        Say($"storage: {runs} bare runs started at once");
        var bareCount = await CountAsync(null, engine, new Dictionary<int, string>(),
            () => BareRunsAsync(stack.Client, input, "storage-", runs, cancellationToken), cancellationToken);

        results.Storage = new StorageResult(runs, nodes.Count(n => n.IsAgent), orchflow!, bareCount) { OrchflowWatched = watched };
        Say($"storage: per run, Orchflow {orchflow!.PerRun(orchflow.Projection.Total):0} projection + {orchflow.PerRun(orchflow.Engine.Total):0} engine requests, " +
            $"watched {watched!.PerRun(watched.Projection.Total):0} + {watched.PerRun(watched.Engine.Total):0}, " +
            $"bare {bareCount.PerRun(bareCount.Engine.Total):0} engine requests");
    }

    /// <summary>
    /// Starts the storage phase's runs at once, each read on its event stream from its start to its end when
    /// <paramref name="watch"/>, and lists them every 500 ms until all completed.
    /// </summary>
    async Task RunAllAsync(OrchflowApi api, string key, bool watch, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        var streams = new List<Task<int>>();
        for (var i = 0; i < options.StorageRuns; i++)
        {
            var id = (await api.StartRunAsync(key, options.Goal, null, cancellationToken)).RunId;
            ids.Add(id);
            if (watch)
            {
                streams.Add(Task.Run(() => CountDeltasAsync(api, key, id, cancellationToken), cancellationToken));
            }
        }

        var clock = Stopwatch.StartNew();
        while ((await ListAllAsync(api, key, cancellationToken)).Count(r => ids.Contains(r.RunId) && r.Status == "completed") < ids.Count)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"The storage phase's {ids.Count} runs did not complete in 2 minutes.");
            }

            await Task.Delay(500, cancellationToken);
        }

        // Each stream ends with its run.
        await Task.WhenAll(streams).WaitAsync(TimeSpan.FromMinutes(1), cancellationToken);
    }

    /// <summary>Counts what <paramref name="work"/> asks of each Azurite, less what they were asked while idle for as long.</summary>
    async Task<StorageCount> CountAsync(
        MeteredAzurite? projection, MeteredAzurite engine, Dictionary<int, string> roles, Func<Task> work, CancellationToken cancellationToken)
    {
        roles[engine.Pid] = "engine Azurite";
        if (projection is not null)
        {
            roles[projection.Pid] = "projection Azurite";
        }

        var projectionMeters = projection is null ? null : Meters(projection);
        var engineMeters = Meters(engine);
        var idleFrom = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        var idleTo = Stopwatch.GetTimestamp();

        var before = ProcStats.Cpu();
        var from = Stopwatch.GetTimestamp();
        await work();
        var to = Stopwatch.GetTimestamp();
        var cpu = ProcStats.Cpu().Since(before, roles);
        var scale = (double)(to - from) / (idleTo - idleFrom);

        StorageRequests Counted(Dictionary<string, MeteredAzurite.Meter> meters) => new(meters.ToDictionary(
            m => m.Key,
            m => Math.Max(0, m.Value.Between(from, to) - m.Value.Between(idleFrom, idleTo) * scale)));

        var count = new StorageCount(options.StorageRuns, Stopwatch.GetElapsedTime(from, to),
            projectionMeters is null ? StorageRequests.None : Counted(projectionMeters), Counted(engineMeters), cpu);
        foreach (var meter in projectionMeters?.Values ?? Enumerable.Empty<MeteredAzurite.Meter>())
        {
            projection!.Stop(meter);
        }

        foreach (var meter in engineMeters.Values)
        {
            engine.Stop(meter);
        }

        return count;
    }

    /// <summary>One counter per kind of request: table reads, batches, other table writes, queue requests, blob requests.</summary>
    static Dictionary<string, MeteredAzurite.Meter> Meters(MeteredAzurite azurite) =>
        StorageRequests.Kinds.ToDictionary(kind => kind, kind => azurite.Count(r => KindOf(r) == kind));

    /// <summary>
    /// What a logged request was. Table names have no hyphens and queue and container names of a task hub do, so a
    /// top-level name with one is a queue (its metadata) or a container; queue messages are under <c>/messages</c>.
    /// </summary>
    static string KindOf(StorageRequest request)
    {
        if (request.Resource == "$batch")
        {
            return StorageRequests.Batches;
        }

        // The name before any key in parentheses: keys (instance ids) may hold hyphens of their own.
        var top = request.Resource.Split('/')[0].Split('(')[0];
        if (request.Resource.Contains("/messages", StringComparison.Ordinal) || (top.Contains('-') && !request.Resource.Contains('/')
                && !request.Query.Contains("restype=container", StringComparison.Ordinal)))
        {
            return StorageRequests.Queues;
        }

        if (request.Table is { } table && !table.Contains('-'))
        {
            return request.IsTableRead ? StorageRequests.TableReads : StorageRequests.TableWrites;
        }

        return StorageRequests.Blobs;
    }

    /// <summary>Starts <paramref name="count"/> bare runs at once and lists them (one query) every 500 ms until all completed.</summary>
    static async Task BareRunsAsync(DurableTaskClient client, DagInput input, string prefix, int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(DagOrchestrator), input, new StartOrchestrationOptions(prefix + i), cancellationToken);
        }

        var clock = Stopwatch.StartNew();
        while ((await QueryAsync(client, prefix, cancellationToken)).Count(i => i.RuntimeStatus == OrchestrationRuntimeStatus.Completed) < count)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"The storage phase's {count} bare runs did not complete in 2 minutes.");
            }

            await Task.Delay(500, cancellationToken);
        }
    }
}
