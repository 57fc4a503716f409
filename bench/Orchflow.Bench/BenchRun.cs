using System.Diagnostics;
using Azure.Data.Tables;
using Microsoft.DurableTask.Client;

namespace Orchflow.Bench;

/// <summary>
/// One bench run: Azurite, the bare engine in this process, and the standalone host as a child process (restarted
/// fresh where a figure needs a fresh process or another model latency), phase by phase. Everything it starts it stops.
/// </summary>
public sealed partial class BenchRun(BenchOptions options, TextWriter log)
{
    const string HumanTopic = "company details";

    /// <summary>The standalone host's task hub storage, when not its tables' (<c>Orchflow:Durable:ConnectionString</c>).</summary>
    const string TaskHubStorageSetting = "Orchflow__Durable__ConnectionString";

    readonly BenchResults results = new() { StartedAt = DateTimeOffset.UtcNow };
    Azurite? azurite;

    /// <summary>With <see cref="BenchOptions.SplitStorage"/>: the Azurite of the hosts' projection and API tables, apart from the task hubs'.</summary>
    Azurite? apiStorage;
    MeteredAzurite? metered;
    DurableStack? bare;
    /// <summary>Hosts running now (two at once in the limits phase), killed at once should the bench die.</summary>
    readonly List<OrchflowHost> runningHosts = [];

    string ConnectionString => azurite!.ConnectionString;

    int MaxParallel => int.Parse(options.HostSettings.GetValueOrDefault("Orchflow__Engine__MaxParallelTasks", "8"));

    public async Task<BenchResults> RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var loadAverage = ProcStats.LoadAverage();
        Say($"starting Azurite (one-minute load average of the machine: {loadAverage:0.0})");
        azurite = await Azurite.StartAsync();
        if (options.SplitStorage)
        {
            Say("starting a second Azurite for the projection and API tables (the task hubs stay on the first, with the bare engine's)");
            apiStorage = await Azurite.StartAsync();
        }

        results.Topology = options.SplitStorage ? BenchResults.SplitTopology : BenchResults.SharedTopology;
        try
        {
            if (new[] { "overhead", "throughput", "latency", "backend" }.Any(options.Runs))
            {
                bare = await DurableStack.StartAsync(ConnectionString, "benchbare" + Guid.NewGuid().ToString("N")[..8],
                    DurableSettings.For(options.HostSettings), runWorker: true, cancellationToken);
            }

            if (new[] { "overhead", "reads", "conditional", "throughput", "streaming" }.Any(options.Runs))
            {
                await WithHostAsync(0, FastModelPhasesAsync, cancellationToken);
            }

            if (options.Runs("streaming"))
            {
                await StreamingPhaseAsync(cancellationToken);
            }

            if (options.Runs("tools"))
            {
                await ToolsPhaseAsync(cancellationToken);
            }

            if (options.Runs("hostile"))
            {
                await HostilePhaseAsync(cancellationToken);
            }

            if (options.Runs("mcp"))
            {
                await McpPhaseAsync(cancellationToken);
            }

            if (options.Runs("memory") || options.Runs("resume"))
            {
                await WithHostAsync(0, HumanWaitPhasesAsync, cancellationToken);
            }
            else if (options.Runs("backend"))
            {
                await PerInstanceAsync(cancellationToken);
            }

            if (options.Runs("latency"))
            {
                await WithHostAsync(options.SlowModelLatencyMs, SlowModelPhaseAsync, cancellationToken);
            }

            if (options.Runs("load"))
            {
                await WithHostAsync(LoadModelLatencyMs, LoadAsync, cancellationToken, LoadSettings);
            }

            if (options.Runs("abuse"))
            {
                await AbusePhaseAsync(cancellationToken);
            }

            // Last on this Azurite: the 10,000 runs it seeds make Azurite's tables larger for whatever would follow.
            if (options.Runs("list"))
            {
                await WithHostAsync(0, ListPhaseAsync, cancellationToken);
            }

            if (options.Runs("sse") || options.Runs("limits") || options.Runs("output"))
            {
                await MeteredPhasesAsync(cancellationToken);
            }

            if (options.Runs("storage"))
            {
                await StoragePhaseAsync(cancellationToken);
            }
        }
        finally
        {
            if (bare is not null)
            {
                await bare.DisposeAsync();
            }

            Say("stopping Azurite");
            await azurite.DisposeAsync();
            if (apiStorage is not null)
            {
                await apiStorage.DisposeAsync();
            }
        }

        results.Duration = clock.Elapsed;
        results.LoadAverage = (loadAverage, ProcStats.LoadAverage());
        return results;
    }

    /// <summary>
    /// The phases that count what the host asks of storage, on an Azurite of their own whose access log is read (the
    /// main one stays silent): the live streams, live output, and the rate limiter beside no limiting.
    /// </summary>
    async Task MeteredPhasesAsync(CancellationToken cancellationToken)
    {
        Say("starting a second Azurite, its access log read by the bench");
        metered = await MeteredAzurite.StartAsync();
        try
        {
            var storage = metered;
            if (options.Runs("sse"))
            {
                await WithHostAsync(options.SseModelLatencyMs, (host, api, token) => SsePhaseAsync(host, api, storage, token), cancellationToken,
                    connectionString: storage.ConnectionString);
            }

            if (options.Runs("output"))
            {
                await OutputPhaseAsync(storage, cancellationToken);
            }

            if (options.Runs("limits"))
            {
                await WithHostAsync(0, (high, _, token) =>
                        WithHostAsync(0, (limited, _, inner) => LimitsPhaseAsync(high, limited, inner), token, LoadSettings, storage.ConnectionString),
                    cancellationToken, connectionString: storage.ConnectionString);
            }
        }
        finally
        {
            Say("stopping the second Azurite");
            await metered.DisposeAsync();
            metered = null;
        }
    }

    /// <param name="settings">The host's settings, if not the bench's own (<see cref="BenchOptions.HostSettings"/>).</param>
    /// <param name="connectionString">
    /// The host's storage, task hub and tables alike, if not the bench's own: the main Azurite, or with
    /// <see cref="BenchOptions.SplitStorage"/> the main one for the task hub and the second for the tables.
    /// </param>
    async Task WithHostAsync(
        int modelLatencyMs, Func<OrchflowHost, OrchflowApi, CancellationToken, Task> phases, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? settings = null, string? connectionString = null)
    {
        Say($"starting the standalone host (simulated model at {modelLatencyMs} ms)");
        settings ??= options.HostSettings;
        if (connectionString is null && apiStorage is not null)
        {
            connectionString = apiStorage.ConnectionString;
            settings = new Dictionary<string, string>(settings) { [TaskHubStorageSetting] = ConnectionString };
        }

        var started = await BenchHost.StartAsync(connectionString ?? ConnectionString, modelLatencyMs, settings, cancellationToken);
        lock (runningHosts)
        {
            runningHosts.Add(started);
        }

        try
        {
            await phases(started, OrchflowApi.For(started.BaseAddress), cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested && started.Output.Length > 0)
        {
            Say("the host wrote:\n" + started.Output);
            throw;
        }
        finally
        {
            Say("stopping the standalone host");
            lock (runningHosts)
            {
                runningHosts.Remove(started);
            }

            // Killed: its tables and hub are never used again and its figures are taken, so a graceful stop (leases handed
            // on, seconds) would only lengthen the bench.
            await started.KillAsync();
            await started.DisposeAsync();
        }
    }

    /// <summary>Model at 0 ms: warm-up (the plan every load runs), overhead against the bare engine, reads, throughput.</summary>
    async Task FastModelPhasesAsync(OrchflowHost host, OrchflowApi api, CancellationToken cancellationToken)
    {
        var key = await api.RegisterAsync(cancellationToken);
        var warm = await WarmUpAsync(host, api, key, options.WarmupRuns, cancellationToken);
        var completed = warm.Select(r => r.RunId).ToList();
        if (options.Runs("overhead"))
        {
            var (overhead, runs) = await OverheadAsync(api, key, 0, options.OverheadRuns, cancellationToken);
            results.Overhead = overhead;
            completed.AddRange(runs.Select(r => r.RunId));
        }

        if (options.Runs("reads"))
        {
            results.Reads = await ReadsAsync(host, api, key, completed, cancellationToken);
        }

        if (options.Runs("conditional"))
        {
            results.Conditional = await ConditionalAsync(api, key, completed, cancellationToken);
        }

        if (options.Runs("throughput"))
        {
            if (!options.Smoke)
            {
                // One load of each, not measured: the few runs of the warm-up leave a fresh host's code paths for the
                // API, the projection and the engine still being compiled at saturation, which the bench process's
                // engine and client went through in the phases before. Both are measured at their steady pace.
                await ThroughputAsync(host, api, cancellationToken, warmUp: true);
                await BareThroughputAsync(cancellationToken, warmUp: true);
            }

            results.Throughput = await ThroughputAsync(host, api, cancellationToken);
            results.BareThroughput = await BareThroughputAsync(cancellationToken);
        }

    }

    /// <summary>
    /// Runs the plan's goal a few times on a fresh host (and the bare orchestration on the bare engine), so neither is
    /// measured cold; the first run's plan becomes the bare orchestration's shape.
    /// </summary>
    async Task<List<RunDto>> WarmUpAsync(OrchflowHost host, OrchflowApi api, string key, int count, CancellationToken cancellationToken)
    {
        Say($"warming up ({count} run(s))");
        var runs = new List<RunDto>();
        for (var i = 0; i < count; i++)
        {
            // Generous: a first run on a fresh host over a loaded machine has taken more than 20 s.
            runs.Add(await RunToCompletionAsync(api, key, options.Goal, TimeSpan.FromSeconds(60), cancellationToken));
        }

        if (results.Plan is null)
        {
            var first = runs[0];
            var nodes = first.Subtasks.Values.Select(t => new PlanNode(t.TaskId, t.Kind == "agent", t.DependsOn)).ToList();
            if (bare is not null)
            {
                for (var i = 0; i < count; i++)
                {
                    await BareRunAsync(nodes, 0, cancellationToken);
                }
            }

            var bareActivities = bare is null ? 0 : await CountActivitiesAsync(bare.TaskHub, await BareRunAsync(nodes, 0, cancellationToken));
            results.Plan = new PlanShape(options.Goal, nodes, first.CriticalPathTasks(),
                await CountActivitiesAsync(host.TaskHub, first.RunId), bareActivities);
            Say($"plan: {nodes.Count} tasks, {Plan.Describe(nodes)}; critical path {results.Plan.CriticalPathTasks} agent tasks; " +
                $"activities per run: Orchflow {results.Plan.OrchflowActivities}, bare {results.Plan.BareActivities}");
        }

        return runs;
    }

    /// <summary>Starts a run and reads it every 20 ms until it completes.</summary>
    static async Task<RunDto> RunToCompletionAsync(OrchflowApi api, string key, string goal, TimeSpan limit, CancellationToken cancellationToken)
    {
        var run = await api.StartRunAsync(key, goal, null, cancellationToken);
        return await api.WaitAsync(key, run.RunId, r => r.IsCompleted, TimeSpan.FromMilliseconds(20), limit, cancellationToken);
    }

    /// <summary>Runs the graph once on the bare engine, reading its status every 20 ms until it completes; returns its instance id.</summary>
    async Task<string> BareRunAsync(IReadOnlyList<PlanNode> nodes, int latencyMs, CancellationToken cancellationToken, bool writeTransitions = false)
    {
        var id = await bare!.Client.ScheduleNewOrchestrationInstanceAsync(
            nameof(DagOrchestrator), new DagInput(nodes, latencyMs, MaxParallel, writeTransitions), cancellationToken);
        await WaitForBareAsync(id, TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(120), cancellationToken);
        return id;
    }

    async Task<OrchestrationMetadata> WaitForBareAsync(string id, TimeSpan interval, TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var instance = await bare!.Client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken);
            if (instance?.RuntimeStatus == OrchestrationRuntimeStatus.Completed)
            {
                return instance;
            }

            if (instance?.RuntimeStatus is OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated)
            {
                throw new InvalidOperationException($"Bare orchestration {id} ended {instance.RuntimeStatus}.");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Bare orchestration {id} is still {instance?.RuntimeStatus} after {limit.TotalSeconds:0} s.");
            }

            await Task.Delay(interval, cancellationToken);
        }
    }

    /// <summary>Activities an orchestration instance scheduled, counted in its task hub's History table.</summary>
    async Task<int> CountActivitiesAsync(string taskHub, string instanceId)
    {
        var history = new TableClient(ConnectionString, taskHub + "History");
        var count = 0;
        await foreach (var _ in history.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{instanceId}' and EventType eq 'TaskScheduled'", select: ["RowKey"]))
        {
            count++;
        }

        return count > 0 ? count : throw new InvalidOperationException($"No TaskScheduled events for {instanceId} in {taskHub}History.");
    }

    /// <summary>Registers one account per lane, so concurrent starts do not contend on one account's row.</summary>
    async Task<string[]> LaneKeysAsync(OrchflowApi api, CancellationToken cancellationToken) =>
        await Task.WhenAll(Enumerable.Range(0, options.Lanes).Select(_ => api.RegisterAsync(cancellationToken)));

    /// <summary>Every run of an account, paging through its list.</summary>
    static async Task<List<RunSummaryDto>> ListAllAsync(OrchflowApi api, string key, CancellationToken cancellationToken)
    {
        var all = new List<RunSummaryDto>();
        while (true)
        {
            var page = await api.ListRunsAsync(key, 100, all.Count, cancellationToken);
            all.AddRange(page.Runs);
            if (page.Runs.Count == 0 || all.Count >= page.Total)
            {
                return all;
            }
        }
    }

    /// <summary>Stops the child processes at once, for a bench process that is about to die of an unhandled exception.</summary>
    public void StopNow()
    {
        lock (runningHosts)
        {
            foreach (var host in runningHosts)
            {
                host.Kill();
            }
        }

        metered?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        azurite?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
    }

    void Say(string message) => log.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");
}
