using System.Diagnostics;

namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    /// <summary>
    /// On a fresh host: many runs paused on their human task (the host's peak memory then), the hub left idle, then
    /// answers timed one by one. While the hub idles, the bare engine (in this process, on its own hub) measures what
    /// needs no Orchflow host.
    /// </summary>
    async Task HumanWaitPhasesAsync(OrchflowHost host, OrchflowApi api, CancellationToken cancellationToken)
    {
        var startRss = ProcStats.RssMiB(host.Pid);
        var key = await api.RegisterAsync(cancellationToken);
        await WarmUpAsync(host, api, key, 1, cancellationToken);

        var count = options.Runs("memory") ? options.WaitingRuns : options.ResumeRuns;
        var (waiting, creation) = await StartWaitingRunsAsync(api, count, cancellationToken);
        if (options.Runs("memory"))
        {
            var azuritePid = ProcStats.ChildPid("node");
            results.Memory = new MemoryResult(count, creation, startRss, ProcStats.PeakRssMiB(host.Pid), double.NaN,
                azuritePid is int pid ? ProcStats.PeakRssMiB(pid) : double.NaN);
            Say($"memory: {count} runs waiting on a human after {creation.TotalSeconds:0} s; host peak RSS {results.Memory.PeakRssMiB:0} MiB");
        }

        var idle = Stopwatch.StartNew();
        Say($"the host's hub idles for {options.Idle.TotalSeconds:0} s; meanwhile the bare engine works on its own hub");
        await Task.WhenAll(Task.Delay(options.Idle, cancellationToken), WhileHubIdlesAsync(cancellationToken));
        if (results.Memory is not null)
        {
            results.Memory = results.Memory with { IdleRssMiB = ProcStats.RssMiB(host.Pid) };
        }

        if (options.Runs("resume"))
        {
            results.Resume = await ResumeAsync(api, waiting.Take(options.ResumeRuns).ToList(), idle.Elapsed, cancellationToken);
        }
    }

    async Task WhileHubIdlesAsync(CancellationToken cancellationToken)
    {
        if (options.Runs("backend"))
        {
            await PerInstanceAsync(cancellationToken);
        }

        if (options.Runs("latency") && results.Plan is not null)
        {
            slowBare = await BareOverheadAsync(options.SlowModelLatencyMs, options.SlowModelRuns, cancellationToken);
        }
    }

    /// <summary>Starts runs of the human goal over several accounts and waits until every one waits on its human task.</summary>
    async Task<(List<WaitingRun> Runs, TimeSpan Creation)> StartWaitingRunsAsync(OrchflowApi api, int count, CancellationToken cancellationToken)
    {
        var keys = await LaneKeysAsync(api, cancellationToken);
        Say($"starting {count} runs that wait on a human, over {keys.Length} accounts");
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(keys.Select(async (key, lane) =>
        {
            for (var i = lane; i < count; i += keys.Length)
            {
                await api.StartRunAsync(key, options.HumanGoal, [HumanTopic], cancellationToken);
            }
        }));

        while (true)
        {
            var lists = await Task.WhenAll(keys.Select(key => ListAllAsync(api, key, cancellationToken)));
            var statuses = lists.SelectMany(l => l).ToList();
            if (statuses.FirstOrDefault(r => r.Status is "failed" or "cancelled" or "completed") is { } ended)
            {
                throw new InvalidOperationException($"Run {ended.RunId} ended {ended.Status} instead of waiting on its human.");
            }

            if (statuses.Count(r => r.Status == "waiting_human") == count)
            {
                var creation = clock.Elapsed;
                var runs = keys.Zip(lists).SelectMany(pair => pair.Second.Select(r => new WaitingRun(pair.First, r.RunId))).ToList();
                return (runs, creation);
            }

            if (clock.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException($"Only {statuses.Count(r => r.Status == "waiting_human")} of {count} runs wait on their human after 5 minutes.");
            }

            await Task.Delay(1000, cancellationToken);
        }
    }

    /// <summary>
    /// Answers one waiting run at a time and times it until a task that waited for the answer has started: by that
    /// task's started_at, and by the first read (every 10 ms) that shows it. Answers are spaced so the backend's queue
    /// polling is back at its slowest before each; the first one follows the idle period.
    /// </summary>
    async Task<ResumeResult> ResumeAsync(OrchflowApi api, IReadOnlyList<WaitingRun> runs, TimeSpan idle, CancellationToken cancellationToken)
    {
        Say($"resume: answering {runs.Count} runs, {options.ResumeGap.TotalSeconds:0.#} s apart");
        Sample server = new(), polled = new();
        double firstServer = double.NaN, firstPolled = double.NaN;
        foreach (var (run, index) in runs.Select((r, i) => (r, i)))
        {
            var before = await api.GetRunAsync(run.Key, run.RunId, cancellationToken);
            var human = before.WaitingOn.Single();
            var dependents = before.Subtasks.Values
                .Where(t => t.DependsOn.Contains(human) && t.DependsOn.All(d => d == human || before.Subtasks[d].State == "completed"))
                .Select(t => t.TaskId)
                .ToList();
            if (dependents.Count == 0)
            {
                throw new InvalidOperationException($"Run {run.RunId} has no task that waits for {human} alone.");
            }

            if (index > 0)
            {
                await Task.Delay(options.ResumeGap, cancellationToken);
            }

            await api.CompleteTaskAsync(run.Key, run.RunId, human, "Company: a workflow API for AI apps.", cancellationToken);
            var answered = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            var after = await api.WaitAsync(run.Key, run.RunId, r => dependents.Any(d => r.Subtasks[d].HasStarted),
                TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(60), cancellationToken);
            var seen = clock.Elapsed.TotalMilliseconds;
            var startedAt = dependents.Select(d => after.Subtasks[d].StartedAt).Where(s => s is not null).Min()!.Value;
            var lag = (startedAt - answered).TotalMilliseconds;
            server.Add(lag);
            polled.Add(seen);
            if (index == 0)
            {
                (firstServer, firstPolled) = (lag, seen);
            }
        }

        var result = new ResumeResult(runs.Count, idle, options.ResumeGap, server, polled, firstServer, firstPolled);
        Say($"resume: started_at p50 {server.Median:0} ms p99 {server.P99:0} ms; seen by a poll p50 {polled.Median:0} ms p99 {polled.P99:0} ms");
        return result;
    }

    sealed record WaitingRun(string Key, string RunId);
}
