using System.Collections.Concurrent;
using System.Diagnostics;

namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    /// <summary>
    /// The load runs at the per-key defaults of docs/api.md "Rate limits" (300 a minute, bursts of 60, 30 invalid keys a minute
    /// an address, 20 open streams a caller), which its clients exceed on purpose; registration is raised because the bench registers every account from
    /// one address.
    /// </summary>
    static readonly IReadOnlyDictionary<string, string> LoadLimits = new Dictionary<string, string>
    {
        ["Orchflow__RateLimit__PerMinute"] = "300",
        ["Orchflow__RateLimit__Burst"] = "60",
        ["Orchflow__RateLimit__RegisterPerMinute"] = "1000",
        ["Orchflow__RateLimit__FailedAuthPerMinute"] = "30",
        ["Orchflow__Streams__MaxPerCaller"] = "20",
    };

    /// <summary>The simulated model at 0 ms, as in the throughput figure: the load is all Orchflow's own work.</summary>
    const int LoadModelLatencyMs = 0;

    /// <summary>
    /// Longest the drain may take; the clients then give up on the runs in hand, which are lost unless they complete by the
    /// audit. With every client keeping a run in flight, a run takes as long as the engine needs for all of them (about a
    /// minute on 2 cores), so no run has a shorter limit of its own. The drain takes about 50 s on a quiet machine; 90 s
    /// keeps the full bench under ten minutes even when it runs out.
    /// </summary>
    static readonly TimeSpan LoadDrainLimit = TimeSpan.FromSeconds(90);

    /// <summary>Errors and anomalies printed as they happen; the rest are counted.</summary>
    const int LoudLines = 10;

    const string HumanAnswer = "Company: a workflow API for AI apps. Brand voice: direct, useful, technical.";

    IReadOnlyDictionary<string, string> LoadSettings =>
        LoadLimits.Concat(options.HostSettings).GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Last().Value);

    /// <summary>
    /// Many clients over many accounts on a fresh host, each looping through the public docs' loop — start a run that asks
    /// a human first, poll it until it waits, read its tasks, answer, poll until it completes, list the account's runs —
    /// for the window; then each finishes the run in hand, and every account's listing is checked against what was started.
    /// </summary>
    async Task LoadAsync(OrchflowHost host, OrchflowApi _, CancellationToken cancellationToken)
    {
        var traffic = new ApiTraffic();
        var api = OrchflowApi.For(host.BaseAddress, traffic);
        var startRss = ProcStats.RssMiB(host.Pid);
        var loadAverage = ProcStats.LoadAverage();
        var keys = await Task.WhenAll(Enumerable.Range(0, options.LoadAccounts).Select(_ => api.RegisterAsync(cancellationToken)));
        var ledger = new LoadLedger(this, options.LoadWindow, LoadDrainLimit, options.LoadPollInterval);
        Say($"load: {keys.Length * options.LoadClientsPerAccount} clients over {keys.Length} accounts for {options.LoadWindow.TotalSeconds:0} s, " +
            $"polling every {options.LoadPollInterval.TotalMilliseconds:0} ms; {Describe(LoadSettings)}");

        var roles = new Dictionary<int, string> { [host.Pid] = "host" };
        var before = ProcStats.Cpu();
        var peaks = new CpuPeaks(roles);
        ledger.Start(traffic.Elapsed);
        var clients = Task.WhenAll(keys.SelectMany(key => Enumerable.Range(0, options.LoadClientsPerAccount)
            .Select(_ => Task.Run(() => LoadClientAsync(api, key, ledger, cancellationToken), cancellationToken))));
        while (!clients.IsCompleted)
        {
            await Task.WhenAny(clients, Task.Delay(1000, cancellationToken));
            peaks.Sample();
        }

        await clients;
        var drain = traffic.Elapsed - ledger.WindowEnd;
        var cpu = ProcStats.Cpu().Since(before, roles);
        Say($"load: drained in {drain.TotalSeconds:0.0} s; checking every account's runs");

        var (lost, moving, unknown) = await AuditAsync(api, keys, ledger, cancellationToken);
        // The host logs at Warning: on a fresh host every warning and error it wrote is the load's.
        var hostLog = HostLogEntries(host.Output);
        // By level and category (errors first), each with its first message: one kind of entry per line.
        foreach (var kind in hostLog.GroupBy(e => e.Split(' ')[0] + " " + e.Split(' ')[1])
                     .OrderBy(g => g.Key.StartsWith("warn:", StringComparison.Ordinal)).ThenByDescending(g => g.Count()).Take(LoudLines))
        {
            Say($"load: the host logged {kind.Count()} × {kind.Key}, first: {kind.First()}");
        }

        var exchanges = traffic.Snapshot();
        var result = new LoadResult(keys.Length, options.LoadClientsPerAccount, options.LoadWindow, options.LoadPollInterval, LoadModelLatencyMs,
            LoadSettings, RouteFigures.ByRoute(exchanges), RouteFigures.Of("all", exchanges),
            exchanges.Count(e => e.At >= ledger.WindowStart && e.At < ledger.WindowEnd), drain,
            ledger.StartedCount, ledger.StartedCount - lost.Count, ledger.CompletedInWindow, lost, moving, unknown, ledger.ToWaiting, ledger.ToCompleted,
            ledger.Errors, ledger.AnomalyCount, ledger.Anomalies, cpu, peaks, startRss, ProcStats.PeakRssMiB(host.Pid), (loadAverage, ProcStats.LoadAverage()),
            hostLog.Count, hostLog.Where(l => !l.StartsWith("warn:", StringComparison.Ordinal)).Count());
        results.Load = result;
        var all = result.Overall;
        Say($"load: {all.Requests:N0} requests, {all.Served:N0} served (p50 {all.Latency.Median:0} ms, p99 {all.Latency.P99:0} ms), " +
            $"{all.Limited:N0} × 429, {result.ErrorCount} other errors; runs {result.RunsStarted} started, {result.RunsCompleted} completed, " +
            $"{result.Lost.Count} lost ({result.LostMoving} of them still moving); CPU {cpu.Describe("host", "Azurite", "bench")}");
        if (!result.Clean)
        {
            Say($"LOAD FAILED: {result.ErrorCount} errors other than 429, {result.Lost.Count} runs lost, {result.Unknown} unknown runs, " +
                $"{result.AnomalyCount} anomalies; all must be 0");
        }
    }

    /// <summary>One client: runs of the human goal one after another until the window ends, the last one seen through to the end.</summary>
    async Task LoadClientAsync(OrchflowApi api, string key, LoadLedger ledger, CancellationToken cancellationToken)
    {
        while (!ledger.WindowOver)
        {
            var started = await ledger.AttemptAsync(() => api.StartRunAsync(key, options.HumanGoal, [HumanTopic], cancellationToken));
            if (started is null)
            {
                await Task.Delay(ledger.PollInterval, cancellationToken);
                continue;
            }

            ledger.Started(key, started.RunId);
            if (await FollowRunAsync(api, key, started.RunId, ledger, cancellationToken))
            {
                ledger.Completed();
                // The dashboard beside the run: the account's newest runs.
                await ledger.AttemptAsync(() => api.ListRunsAsync(key, 10, 0, cancellationToken));
            }
        }
    }

    /// <summary>Polls the run until it waits on its human, reads its tasks, answers, and polls until it completes; false if it did not.</summary>
    async Task<bool> FollowRunAsync(OrchflowApi api, string key, string runId, LoadLedger ledger, CancellationToken cancellationToken)
    {
        var deadline = ledger.DrainDeadline;
        var since = Stopwatch.StartNew();
        var waiting = await PollAsync(api, key, runId, r => r.Status is "waiting_human" or "completed", deadline, ledger, cancellationToken);
        if (waiting is null)
        {
            return false;
        }

        if (waiting.Status != "waiting_human" || waiting.WaitingOn is not [var human] ||
            !waiting.Subtasks.TryGetValue(human, out var humanTask) || humanTask.Kind != "human")
        {
            ledger.Anomaly($"run {runId} is {waiting.Status} waiting on [{string.Join(", ", waiting.WaitingOn)}] before its human task was answered");
            return false;
        }

        ledger.ToWaiting.Add(since.Elapsed.TotalMilliseconds);

        // What a UI reads to show the person the question.
        var tasks = await ledger.AttemptAsync(() => api.GetTasksAsync(key, runId, cancellationToken));
        if (tasks is not null && tasks.Tasks.SingleOrDefault(t => t.TaskId == human)?.State != "waiting_human")
        {
            ledger.Anomaly($"run {runId} waits on {human}, but its task list shows {human} as {tasks.Tasks.SingleOrDefault(t => t.TaskId == human)?.State ?? "missing"}");
        }

        for (var attempt = 1; ; attempt++)
        {
            if (await ledger.AttemptAsync(() => api.CompleteTaskAsync(key, runId, human, HumanAnswer, cancellationToken)) is not null)
            {
                since.Restart();
                break;
            }

            // The answer may have been taken before the failure: answer again only while the task still waits.
            var now = await PollAsync(api, key, runId, _ => true, deadline, ledger, cancellationToken);
            if (now is null || now.Subtasks[human].State != "waiting_human")
            {
                break;
            }

            if (attempt == 3)
            {
                ledger.Anomaly($"run {runId}: {human} could not be answered in {attempt} attempts");
                return false;
            }
        }

        if (await PollAsync(api, key, runId, r => r.IsCompleted, deadline, ledger, cancellationToken) is null)
        {
            return false;
        }

        ledger.ToCompleted.Add(since.Elapsed.TotalMilliseconds);
        return true;
    }

    /// <summary>
    /// Reads the run every poll interval until <paramref name="done"/> holds, through errors (each one counted). Null, and
    /// an anomaly, if the run ends otherwise or the deadline passes.
    /// </summary>
    async Task<RunDto?> PollAsync(
        OrchflowApi api, string key, string runId, Func<RunDto, bool> done, DateTime deadline, LoadLedger ledger, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await Task.Delay(ledger.PollInterval, cancellationToken);
                return await api.WaitAsync(key, runId, done, ledger.PollInterval, deadline - DateTime.UtcNow, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                ledger.Error(e.Message);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                ledger.Anomaly(e.Message);
                return null;
            }
        }
    }

    /// <summary>
    /// Every account's own listing once the load is over: each run a client started must be there and completed (else it
    /// is lost), and nothing else may be there.
    /// </summary>
    async Task<(List<string> Lost, int LostMoving, int Unknown)> AuditAsync(OrchflowApi api, string[] keys, LoadLedger ledger, CancellationToken cancellationToken)
    {
        async Task<List<RunSummaryDto>> ListAsync(string key)
        {
            for (var attempt = 1; attempt <= 3; attempt++)
            {
                if (await ledger.AttemptAsync(() => ListAllAsync(api, key, cancellationToken)) is { } runs)
                {
                    return runs;
                }

                await Task.Delay(1000, cancellationToken);
            }

            throw new InvalidOperationException("An account's runs could not be listed after the load, in 3 attempts.");
        }

        var audited = DateTimeOffset.UtcNow;
        var runs = (await Task.WhenAll(keys.Select(ListAsync))).SelectMany(l => l).ToDictionary(r => r.RunId);
        var listed = runs.ToDictionary(r => r.Key, r => r.Value.Status);
        var lost = ledger.StartedIds.Where(id => listed.GetValueOrDefault(id) != "completed")
            .Select(id => $"{id} ({listed.GetValueOrDefault(id) ?? "not listed"})").Order(StringComparer.Ordinal).ToList();
        // Same machine, same clock: a lost run the host updated just now was slow, not stuck.
        var moving = ledger.StartedIds.Count(id => runs.TryGetValue(id, out var r) && r.Status != "completed" && audited - r.UpdatedAt < LoadResult.MovingWithin);
        var unknown = listed.Keys.Except(ledger.StartedIds).ToList();
        var keyOf = ledger.StartedKeys;
        foreach (var line in lost.Take(LoudLines))
        {
            var id = line.Split(' ')[0];
            var run = await ledger.AttemptAsync(() => api.GetRunAsync(keyOf[id], id, cancellationToken));
            Say($"LOAD LOST RUN: {line}" + (run is null ? "" : "; " + DescribeTasks(run)));
        }

        foreach (var id in unknown.Take(LoudLines))
        {
            Say($"LOAD UNKNOWN RUN: {id} ({listed[id]}) is listed, but no client saw it started");
        }

        return (lost, moving, unknown.Count);
    }

    /// <summary>"created 16:30:01.2; T1 human completed 16:30:14.0; T2 agent running since 16:30:14.3 …": where a run stands.</summary>
    static string DescribeTasks(RunDto run) =>
        $"created {run.CreatedAt:HH:mm:ss.f}, updated {run.UpdatedAt:HH:mm:ss.f}; " + string.Join("; ", run.Subtasks.Values.OrderBy(t => t.TaskId, StringComparer.Ordinal).Select(t =>
            $"{t.TaskId} {t.Kind} {t.State}" + (t.CompletedAt is { } done ? $" {done:HH:mm:ss.f}" : t.StartedAt is { } since ? $" since {since:HH:mm:ss.f}" : "")));

    /// <summary>The console logger's entries at Warning or above: "warn: Category[id]" and the first lines of the message.</summary>
    static List<string> HostLogEntries(string output)
    {
        var lines = output.Split('\n');
        var entries = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("warn:", StringComparison.Ordinal) || lines[i].StartsWith("fail:", StringComparison.Ordinal) ||
                lines[i].StartsWith("crit:", StringComparison.Ordinal))
            {
                // A warning's message is one line; an error's is followed by its exception, whose first line says what it was.
                var more = lines[i].StartsWith("warn:", StringComparison.Ordinal) ? 1 : 3;
                entries.Add(string.Join(" | ", lines.Skip(i).Take(1 + more).Select(l => l.Trim())));
            }
        }

        return entries;
    }

    static string Describe(IReadOnlyDictionary<string, string> settings) => string.Join(", ", settings.Select(s => $"{s.Key}={s.Value}"));

    /// <summary>What the load's clients share: the window, the runs they started and completed, and what went wrong, said loudly.</summary>
    sealed class LoadLedger(BenchRun bench, TimeSpan window, TimeSpan drainLimit, TimeSpan pollInterval)
    {
        /// <summary>How long a client waits between two reads of its run.</summary>
        public TimeSpan PollInterval => pollInterval;

        readonly Stopwatch clock = new();
        readonly ConcurrentDictionary<string, string> started = new();
        readonly ConcurrentQueue<string> errors = new();
        readonly ConcurrentQueue<string> anomalies = new();
        int completedInWindow;
        int errorCount;
        int anomalyCount;

        /// <summary>Start and end of the window on the traffic record's clock.</summary>
        public TimeSpan WindowStart { get; private set; }

        public TimeSpan WindowEnd => WindowStart + window;

        public bool WindowOver => clock.Elapsed >= window;

        public int StartedCount => started.Count;

        public ICollection<string> StartedIds => started.Keys;

        /// <summary>The API key each started run belongs to.</summary>
        public IReadOnlyDictionary<string, string> StartedKeys => started;

        public int CompletedInWindow => completedInWindow;

        /// <summary>The 202 of <c>POST /runs</c> → the first read showing the run waiting on its human.</summary>
        public Sample ToWaiting { get; } = new();

        /// <summary>The 200 of the answer → the first read showing the run completed.</summary>
        public Sample ToCompleted { get; } = new();

        public IReadOnlyList<string> Errors => [.. errors.Take(LoudLines)];

        public int AnomalyCount => anomalyCount;

        public IReadOnlyList<string> Anomalies => [.. anomalies.Take(LoudLines)];

        public void Start(TimeSpan trafficTime)
        {
            WindowStart = trafficTime;
            clock.Start();
        }

        /// <summary>When the clients give up on the runs in hand.</summary>
        public DateTime DrainDeadline => DateTime.UtcNow + (window + drainLimit - clock.Elapsed);

        public void Started(string key, string runId) => started[runId] = key;

        public void Completed()
        {
            if (!WindowOver)
            {
                Interlocked.Increment(ref completedInWindow);
            }
        }

        /// <summary>Makes one call of the loop; an error (already counted by route in the traffic record) is said and gives null.</summary>
        public async Task<T?> AttemptAsync<T>(Func<Task<T>> call)
        {
            try
            {
                return await call();
            }
            catch (HttpRequestException e)
            {
                Error(e.Message);
                return default;
            }
        }

        public async Task<string?> AttemptAsync(Func<Task> call) => await AttemptAsync(async () =>
        {
            await call();
            return "done";
        });

        public void Error(string message)
        {
            if (Interlocked.Increment(ref errorCount) <= LoudLines)
            {
                errors.Enqueue(message);
                bench.Say($"LOAD ERROR: {message}");
            }
        }

        public void Anomaly(string message)
        {
            if (Interlocked.Increment(ref anomalyCount) <= LoudLines)
            {
                anomalies.Enqueue(message);
                bench.Say($"LOAD ANOMALY: {message}");
            }
        }
    }
}
