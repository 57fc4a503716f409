namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    /// <summary>The bare engine's runs at the slow model latency, when they ran while the host's hub sat idle.</summary>
    (Sample Wall, Sample PerTask)? slowBare;

    /// <summary>
    /// Runs the goal one run at a time on Orchflow, then its graph one run at a time on the bare engine, at the host's
    /// model latency. Wall time is the host's (or backend's) own: created → completed, with no client polling in it.
    /// </summary>
    async Task<(OverheadResult Result, List<RunDto> Runs)> OverheadAsync(
        OrchflowApi api, string key, int latencyMs, int count, CancellationToken cancellationToken, (Sample Wall, Sample PerTask)? bareDone = null)
    {
        var plan = results.Plan!;
        var modelMs = latencyMs * (plan.CriticalPathTasks + 2.0);
        Say($"overhead at {latencyMs} ms: {count} Orchflow runs, one at a time");
        var runs = new List<RunDto>();
        Sample orchflowWall = new(), orchflowPerTask = new();
        for (var i = 0; i < count; i++)
        {
            var run = await RunToCompletionAsync(api, key, options.Goal, TimeSpan.FromSeconds(30 + modelMs / 1000 * 3), cancellationToken);
            if (run.CriticalPathTasks() != plan.CriticalPathTasks)
            {
                throw new InvalidOperationException($"Run {run.RunId} was planned differently from the first run.");
            }

            var wall = (run.UpdatedAt - run.CreatedAt).TotalMilliseconds;
            orchflowWall.Add(wall);
            orchflowPerTask.Add((wall - modelMs) / plan.CriticalPathTasks);
            runs.Add(run);
        }

        var (bareWall, barePerTask) = bareDone ?? await BareOverheadAsync(latencyMs, count, cancellationToken);
        var withTurns = latencyMs == 0 ? (await BareOverheadAsync(latencyMs, count, cancellationToken, writeTransitions: true)).PerTask : null;
        var result = new OverheadResult(latencyMs, count, orchflowPerTask, orchflowWall, barePerTask, bareWall,
            latencyMs == 0 ? BreakDown(runs) : null, withTurns);
        Say($"overhead per agent task at {latencyMs} ms: Orchflow {orchflowPerTask.Median:0.0} ms (p99 {orchflowPerTask.P99:0.0}), " +
            $"bare {barePerTask.Median:0.0} ms (p99 {barePerTask.P99:0.0})" +
            (withTurns is null ? "" : $", bare with Orchflow's turns {withTurns.Median:0.0} ms (p99 {withTurns.P99:0.0})"));
        return (result, runs);
    }

    async Task<(Sample Wall, Sample PerTask)> BareOverheadAsync(int latencyMs, int count, CancellationToken cancellationToken, bool writeTransitions = false)
    {
        var plan = results.Plan!;
        var modelMs = latencyMs * (plan.CriticalPathTasks + 2.0);
        Say($"overhead at {latencyMs} ms: {count} bare runs of the same graph{(writeTransitions ? " with Orchflow's turns" : "")}, one at a time");
        Sample wall = new(), perTask = new();
        for (var i = 0; i < count; i++)
        {
            var id = await BareRunAsync(plan.Nodes, latencyMs, cancellationToken, writeTransitions);
            var instance = await bare!.Client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken);
            var ms = (instance!.LastUpdatedAt - instance.CreatedAt).TotalMilliseconds;
            wall.Add(ms);
            perTask.Add((ms - modelMs) / plan.CriticalPathTasks);
        }

        return (wall, perTask);
    }

    /// <summary>Where the runs' time went, from the projection's timestamps (model at 0 ms: all of it is overhead).</summary>
    static Breakdown BreakDown(IEnumerable<RunDto> runs)
    {
        Sample toFirst = new(), running = new(), handOff = new(), toCompleted = new();
        foreach (var run in runs)
        {
            var agents = run.Subtasks.Values.Where(t => t.Kind == "agent").ToList();
            toFirst.Add((agents.Min(t => t.StartedAt!.Value) - run.CreatedAt).TotalMilliseconds);
            running.AddRange(agents.Select(t => (t.CompletedAt!.Value - t.StartedAt!.Value).TotalMilliseconds));
            handOff.AddRange(agents.Where(t => t.DependsOn.Count > 0).Select(t =>
                (t.StartedAt!.Value - t.DependsOn.Max(d => run.Subtasks[d].CompletedAt!.Value)).TotalMilliseconds));
            toCompleted.Add((run.UpdatedAt - run.Subtasks.Values.Max(t => t.CompletedAt!.Value)).TotalMilliseconds);
        }

        return new Breakdown(toFirst, running, handOff, toCompleted);
    }

    /// <summary>The model at its slow latency: Orchflow here, the bare engine too unless it already ran while the hub idled.</summary>
    async Task SlowModelPhaseAsync(OrchflowHost host, OrchflowApi api, CancellationToken cancellationToken)
    {
        var key = await api.RegisterAsync(cancellationToken);
        await WarmUpAsync(host, api, key, 1, cancellationToken);
        var (result, _) = await OverheadAsync(api, key, options.SlowModelLatencyMs, options.SlowModelRuns, cancellationToken, slowBare);
        results.SlowModel = result;
    }
}
