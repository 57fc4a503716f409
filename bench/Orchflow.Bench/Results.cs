namespace Orchflow.Bench;

/// <summary>Everything one bench run measured; a phase that did not run leaves its part null.</summary>
public sealed class BenchResults
{
    public required DateTimeOffset StartedAt { get; init; }

    public TimeSpan Duration { get; set; }

    public PlanShape? Plan { get; set; }

    public OverheadResult? Overhead { get; set; }

    public OverheadResult? SlowModel { get; set; }

    public ReadsResult? Reads { get; set; }

    public ThroughputResult? Throughput { get; set; }

    public ThroughputResult? BareThroughput { get; set; }

    public MemoryResult? Memory { get; set; }

    public ResumeResult? Resume { get; set; }

    public PerInstanceResult? PerInstance { get; set; }

    public LoadResult? Load { get; set; }

    public ConditionalResult? Conditional { get; set; }

    public ListResult? List { get; set; }

    public SseResult? Sse { get; set; }

    public LimitsResult? Limits { get; set; }

    public StorageResult? Storage { get; set; }

    public ToolsResult? Tools { get; set; }

    public McpResult? Mcp { get; set; }

    public OutputResult? Output { get; set; }

    /// <summary>The host's resident memory while one tenant's endpoints answer to hurt it.</summary>
    public HostileResult? Hostile { get; set; }

    public const string SplitTopology = "split: task hubs on one Azurite, the hosts' projection and API tables on another (ORCHFLOW_API_STORAGE=separate)";
    public const string SharedTopology = "shared: task hubs and the hosts' tables on one Azurite (ORCHFLOW_API_STORAGE=shared, the default)";

    /// <summary>Where the hosts kept their tables: beside the task hubs, or on storage of their own (the metered phases say their own).</summary>
    public string Topology { get; set; } = SharedTopology;

    /// <summary>The load's clients alone, then beside one abusive account.</summary>
    public AbuseResult? Abuse { get; set; }

    /// <summary>
    /// The throughput figure's load on fresh hosts, in the order run: unwatched, or every run watched on its event stream
    /// (live output on).
    /// </summary>
    public List<(bool Watched, ThroughputResult Load)> StreamingLoads { get; } = [];

    /// <summary>The mean of the watched loads; null when none ran.</summary>
    public double? WatchedRunsPerMinute => MeanOf(watched: true);

    /// <summary>What the watched loads are set against: the mean of the unwatched loads beside them.</summary>
    public double? UnwatchedRunsPerMinute => MeanOf(watched: false);

    double? MeanOf(bool watched) =>
        StreamingLoads.Where(l => l.Watched == watched).Select(l => l.Load.RunsPerMinute).ToList() is { Count: > 0 } loads ? loads.Average() : null;

    /// <summary>The machine's one-minute load average when the bench started and when it ended: other work shows here.</summary>
    public (double Start, double End) LoadAverage { get; set; }
}

/// <param name="Goal">The goal sent to Orchflow.</param>
/// <param name="Nodes">The plan's graph, reused as the bare orchestration's shape.</param>
/// <param name="CriticalPathTasks">Agent tasks on the longest chain of dependencies.</param>
/// <param name="OrchflowActivities">Activities one Orchflow run schedules (from its history): model calls and projection writes.</param>
/// <param name="BareActivities">Activities one bare run schedules: the model calls only.</param>
public sealed record PlanShape(string Goal, IReadOnlyList<PlanNode> Nodes, int CriticalPathTasks, int OrchflowActivities, int BareActivities);

/// <summary>
/// Overhead per agent task: (run wall time − model time on the critical path) ÷ agent tasks on it, where the critical
/// path is the planning call, the longest chain of agent tasks and the synthesis call.
/// </summary>
/// <param name="BareWithTurnsPerTask">The bare engine with an empty activity wherever Orchflow writes a transition (model at 0 ms only).</param>
public sealed record OverheadResult(
    int ModelLatencyMs,
    int Runs,
    Sample OrchflowPerTask,
    Sample OrchflowWall,
    Sample BarePerTask,
    Sample BareWall,
    Breakdown? Breakdown,
    Sample? BareWithTurnsPerTask);

/// <summary>Where an Orchflow run's time goes, from the projection's own timestamps (host clock).</summary>
/// <param name="ToFirstTask">POST /runs (created_at) → the first agent task running: start, planning, first projection write.</param>
/// <param name="TaskRunning">An agent task's started_at → completed_at: the activity, its projection reads and its output write.</param>
/// <param name="HandOff">A task's completed_at → a dependent's started_at: the orchestrator's turn and the projection write before the start.</param>
/// <param name="ToCompleted">The last task's completed_at → the run completed: the orchestrator's turn and the synthesis.</param>
public sealed record Breakdown(Sample ToFirstTask, Sample TaskRunning, Sample HandOff, Sample ToCompleted);

public sealed record ReadsResult(int Pollers, TimeSpan Duration, Sample Http, double HttpPerSecond, Sample Durable, double DurablePerSecond);

/// <param name="Runs">Runs started at once.</param>
/// <param name="RunsPerMinute">Runs ÷ (last completion − first creation): the engine kept busy from start to end.</param>
/// <param name="ActivitiesPerRun">Activities one run schedules, from its history.</param>
/// <param name="Cpu">CPU seconds of each process while the runs were under way.</param>
/// <param name="Peaks">Each process's busiest second meanwhile.</param>
public sealed record ThroughputResult(int Runs, double RunsPerMinute, int ActivitiesPerRun, TimeSpan Elapsed, CpuUse Cpu, CpuPeaks Peaks)
{
    public double ActivitiesPerSecond => RunsPerMinute / 60 * ActivitiesPerRun;

    /// <summary>With every run watched on its event stream: the output deltas the streams carried; null when unwatched.</summary>
    public int? Deltas { get; init; }
}

/// <param name="Loop">One echo call through Orchflow's tool loop: the model's answer asking for it → the next turn's request with its result (ask and outcome recorded).</param>
/// <param name="Direct">The same call with the SDK's client from the bench process, connected once.</param>
/// <param name="Approval">A call a person approves: <c>/complete</c> sent → the call at the tool server.</param>
/// <param name="Write">One storage write in the loop's table: a call row the loop wrote, upserted again.</param>
/// <param name="Batch">One batch of the rows a loop's call commits, copied from its run: four rows of one partition, one over its ETag.</param>
/// <param name="Turnaround">The model's part of each call alone: its answer read and the next turn's request sent, by Orchflow's model client in the bench process.</param>
public sealed record ToolsResult(Sample Loop, Sample Direct, Sample Approval, Sample Write, Sample Batch, Sample Turnaround)
{
    /// <summary>The target: 1.5 × (a direct call + one storage write).</summary>
    public double Target => 1.5 * (Direct.Median + Write.Median);

    /// <summary>
    /// What the loop cannot do without when the model answers at once: the call, one batch (its ask and its outcome,
    /// written while the next turn is asked, and waited for before its answer is acted on), and the model's turnaround.
    /// </summary>
    public double Floor => Direct.Median + Batch.Median + Turnaround.Median;

    /// <summary>The loop again, the model answering each turn a few milliseconds late: the batch is written meanwhile.</summary>
    public Sample? LoopSlowerModel { get; init; }
}

/// <param name="Started">An MCP input response sent (<c>tasks/update</c>) → a task that waited for it started (its <c>started_at</c>).</param>
/// <param name="Working">The same → the client's <c>tasks/get</c>, every 10 ms, shows the MCP task no longer <c>input_required</c>.</param>
public sealed record McpResult(Sample Started, Sample Working);

/// <param name="Requests">The well-behaved clients' requests within the window (a 429's wait not counted).</param>
/// <param name="ToWaiting">Their runs, started → waiting on the human.</param>
/// <param name="ToCompleted">Their runs, answered → completed.</param>
/// <param name="Abuser">The abusive account's requests by kind and status (empty when alone).</param>
public sealed record AbuseLoad(
    RouteFigures Requests, Sample ToWaiting, Sample ToCompleted, int RunsStarted, int RunsCompleted, int Errors, IReadOnlyDictionary<string, int> Abuser);

public sealed record AbuseResult(AbuseLoad Alone, AbuseLoad Beside)
{
    public double P99Ratio => Beside.Requests.Latency.P99 / Math.Max(1, Alone.Requests.Latency.P99);

    public double CompletedP99Ratio => Beside.ToCompleted.P99 / Math.Max(1, Alone.ToCompleted.P99);
}

/// <summary>The host at rest after a warm-up (VmRSS, MiB), and each hostile case's peak while its run went.</summary>
public sealed record HostileResult(double IdleMiB, IReadOnlyList<HostileCase> Cases)
{
    public double MostAboveIdleMiB => Cases.Count == 0 ? 0 : Cases.Max(c => c.AboveIdleMiB);
}

/// <summary>
/// One hostile endpoint: the host's VmRSS as its run started, the peak while it went, that peak less idle (the .NET heap
/// keeps what earlier cases grew it by, so this includes them), and how the run or call ended.
/// </summary>
public sealed record HostileCase(string Name, double StartMiB, double PeakMiB, double AboveIdleMiB, string Outcome);

/// <param name="SameProcess">A word written by the model → its delta at an SSE client of the host that wrote it, one host running.</param>
/// <param name="CrossProcess">The same, at a client of the other host on the same task hub.</param>
/// <param name="CrossWriters">Which host wrote the two-host runs.</param>
/// <param name="SameByCompletion">Words of the one-host runs no delta carried: timed to their task's <c>task.completed</c> at the client.</param>
/// <param name="CrossByCompletion">The same, of the two-host runs at the host that did not write.</param>
public sealed record OutputResult(
    int Runs, int Words, TimeSpan WordInterval, Sample SameProcess, Sample CrossProcess, string CrossWriters, int SameByCompletion, int CrossByCompletion)
{
    /// <summary>Writes of live-text rows per second a task spends writing, in the two-host part (one writer per run).</summary>
    public double TextWritesPerSecond { get; init; }

    /// <summary>Reads of live-text rows per second a task spends writing, in the two-host part (by the host that did not write).</summary>
    public double TextReadsPerSecond { get; init; }
}

/// <param name="StartRssMiB">The host's resident memory once healthy, before any run.</param>
/// <param name="PeakRssMiB">The host's VmHWM once every run waits on its human: its peak over its whole life.</param>
/// <param name="IdleRssMiB">The host's VmRSS after the idle period, every run still waiting.</param>
public sealed record MemoryResult(int Runs, TimeSpan CreationTime, double StartRssMiB, double PeakRssMiB, double IdleRssMiB, double AzuritePeakRssMiB);

/// <param name="Server">The dependent task's started_at (host clock) − the moment the /complete response arrived (same clock).</param>
/// <param name="Polled">The /complete response → the first GET (every 10 ms) showing the dependent task started.</param>
/// <param name="FirstServer">The server figure of the first answer, the one right after the idle period.</param>
public sealed record ResumeResult(int Runs, TimeSpan Idle, TimeSpan Gap, Sample Server, Sample Polled, double FirstServer, double FirstPolled);

/// <summary>The backend alone, one orchestration instance at a time, as Durable Functions states its own figures.</summary>
public sealed record PerInstanceResult(int Count, double SequentialActivitiesPerSecond, double FanOutActivitiesPerSecond, double EventsPerSecond);

/// <summary>
/// The load phase: clients spread over accounts, each looping start a run → poll until it waits on its human → read its
/// tasks → answer → poll until completed → list the account's runs, for a while; then the runs in hand are finished.
/// </summary>
/// <param name="Limits">The host's rate-limit settings during the load.</param>
/// <param name="Routes">Every request of the phase (registration, load, drain, audit) by route.</param>
/// <param name="Overall">The same requests, all routes together.</param>
/// <param name="AnsweredInWindow">Requests answered (any status) while clients still started runs.</param>
/// <param name="Drain">From the end of the window until every client had finished the run in hand.</param>
/// <param name="Lost">Runs started (202) and not completed once drained, by the account's own listing, with their status.</param>
/// <param name="LostMoving">Lost runs the host had updated in the last seconds before the audit: slow, not stuck.</param>
/// <param name="Unknown">Runs the accounts list that no client saw started.</param>
/// <param name="ToWaiting">A client's wait from the 202 of <c>POST /runs</c> to the first read showing the run waiting on its human.</param>
/// <param name="ToCompleted">A client's wait from the answer's 200 to the first read showing the run completed.</param>
/// <param name="Errors">The first few errors (any answer but a 2xx or a proper 429, a timeout, a connection error), as the client saw them.</param>
/// <param name="Anomalies">Things a client saw that a run should not do: fail, finish before its human answered, still be unfinished when the drain ends.</param>
/// <param name="HostWarnings">Entries the host logged at Warning or above meanwhile (it logs nothing below), errors included.</param>
/// <param name="HostErrors">Entries the host logged at Error or Critical.</param>
/// <param name="LoadAverage">The machine's one-minute load average before and after: other work on the machine shows here.</param>
public sealed record LoadResult(
    int Accounts,
    int ClientsPerAccount,
    TimeSpan Window,
    TimeSpan PollInterval,
    int ModelLatencyMs,
    IReadOnlyDictionary<string, string> Limits,
    IReadOnlyList<RouteFigures> Routes,
    RouteFigures Overall,
    int AnsweredInWindow,
    TimeSpan Drain,
    int RunsStarted,
    int RunsCompleted,
    int RunsCompletedInWindow,
    IReadOnlyList<string> Lost,
    int LostMoving,
    int Unknown,
    Sample ToWaiting,
    Sample ToCompleted,
    IReadOnlyList<string> Errors,
    int AnomalyCount,
    IReadOnlyList<string> Anomalies,
    CpuUse Cpu,
    CpuPeaks Peaks,
    double HostStartRssMiB,
    double HostPeakRssMiB,
    (double Start, double End) LoadAverage,
    int HostWarnings,
    int HostErrors)
{
    /// <summary>A lost run the host updated this recently before the audit was still moving when the drain ended.</summary>
    public static readonly TimeSpan MovingWithin = TimeSpan.FromSeconds(15);

    public int Clients => Accounts * ClientsPerAccount;

    public int ErrorCount => Overall.Errors;

    /// <summary>What the phase must show: no error other than a 429, no run lost, nothing odd.</summary>
    public bool Clean => ErrorCount == 0 && Lost.Count == 0 && Unknown == 0 && AnomalyCount == 0;
}

/// <summary>One route's requests by what became of them, and the latency of those served (2xx).</summary>
public sealed record RouteFigures(string Route, int Served, int Limited, int Refused4xx, int Refused5xx, int NoAnswer, Sample Latency, Sample LimitedLatency)
{
    public int Requests => Served + Limited + Refused4xx + Refused5xx + NoAnswer;

    /// <summary>Everything but a 2xx and a proper 429.</summary>
    public int Errors => Refused4xx + Refused5xx + NoAnswer;

    public static IReadOnlyList<RouteFigures> ByRoute(IEnumerable<Exchange> exchanges) =>
        exchanges.GroupBy(e => e.Route).Select(g => Of(g.Key, g.ToList())).OrderByDescending(r => r.Requests).ToList();

    public static RouteFigures Of(string route, IReadOnlyList<Exchange> exchanges)
    {
        Sample latency = new(), limited = new();
        latency.AddRange(exchanges.Where(e => e.Outcome == Outcome.Served).Select(e => e.Latency.TotalMilliseconds));
        limited.AddRange(exchanges.Where(e => e.Outcome == Outcome.Limited).Select(e => e.Latency.TotalMilliseconds));
        int Count(Func<Exchange, bool> which) => exchanges.Count(which);
        return new RouteFigures(route, latency.Count, limited.Count,
            Count(e => e.Outcome == Outcome.Refused && e.Status < 500), Count(e => e.Outcome == Outcome.Refused && e.Status >= 500),
            Count(e => e.Outcome == Outcome.NoAnswer), latency, limited);
    }
}

/// <summary>Pollers reading completed runs with <c>If-None-Match</c> and their current tag, beside full reads of the same runs.</summary>
/// <param name="FullFromReads">The full reads are the reads phase's, made just before on the same host and runs.</param>
public sealed record ConditionalResult(
    int Pollers, TimeSpan Duration, int Runs, Sample NotModified, double NotModifiedPerSecond, Sample Full, double FullPerSecond, bool FullFromReads);

/// <summary><c>GET /runs?limit=…</c> for a small account and a large one, both seeded through the run store.</summary>
/// <param name="SmallEmpty">The small account's page before the large one was seeded: Azurite's table still small.</param>
/// <param name="SmallQuery">The small account's first page as one query straight to the table, from the bench process.</param>
/// <param name="LargeQuery">The same for the large account.</param>
public sealed record ListResult(
    int SmallRuns, int LargeRuns, int Limit, int Offset, int Samples, TimeSpan Seeding,
    Sample SmallEmpty, Sample Small, Sample Large, Sample LargeOffset, Sample SmallQuery, Sample LargeQuery);

/// <summary>Subscribers of one run's live stream while it is driven through its states.</summary>
/// <param name="Events">Events announced after every subscriber had caught up: the state changes timed.</param>
/// <param name="Latency">Each event's <c>created_at</c> (host clock) → its arrival at each client (same machine's clock).</param>
/// <param name="LogReadsPerSecond">Range reads of the run's event log in Azurite's access log, per second, while the run changed.</param>
/// <param name="IdleLogReadsPerSecond">The same while every subscriber watched and nothing changed.</param>
public sealed record SseRunResult(
    int Subscribers, TimeSpan Connect, int Events, TimeSpan Active, Sample Latency, int LogReads, double LogReadsPerSecond,
    TimeSpan Idle, double IdleLogReadsPerSecond, int StatusReads);

public sealed record SseResult(int ModelLatencyMs, TimeSpan Gap, int HumanSteps, SseRunResult Many, SseRunResult One);

/// <summary>One host of the limits phase: its reads, and what its rate limiter asked of storage meanwhile.</summary>
/// <param name="Claims">Claims the host's buckets served in the window (the rows' <c>Claims</c>): each is one read and one write.</param>
/// <param name="BucketRequests">Requests to the host's RateLimits table in the window, in Azurite's access log: empty-bucket reads too.</param>
/// <param name="TableRequests">Every request to the host's own tables in the window, in the access log.</param>
public sealed record LimitsHost(string Label, IReadOnlyDictionary<string, string> Limits, Sample Latency, int Requests, int Refused, long Claims, int BucketRequests, int TableRequests)
{
    public double ClaimOperationsPerRequest => Requests == 0 ? double.NaN : 2.0 * Claims / Requests;

    public double BucketRequestsPerRequest => Requests == 0 ? double.NaN : (double)BucketRequests / Requests;

    public double TableRequestsPerRequest => Requests == 0 ? double.NaN : (double)TableRequests / Requests;
}

/// <param name="Keys">API keys per host, each polling its own run.</param>
public sealed record LimitsResult(int Keys, TimeSpan Interval, TimeSpan Duration, LimitsHost Default, LimitsHost High);

/// <summary>Requests to one Azurite by kind, over a window, less the idle rate (so not whole numbers).</summary>
public sealed record StorageRequests(IReadOnlyDictionary<string, double> ByKind)
{
    public const string TableReads = "table reads";
    public const string Batches = "batches";
    public const string TableWrites = "other table writes";
    public const string Queues = "queue requests";
    public const string Blobs = "blob requests";

    public static readonly string[] Kinds = [TableReads, Batches, TableWrites, Queues, Blobs];

    public static StorageRequests None { get; } = new(new Dictionary<string, double>());

    public double Of(string kind) => ByKind.GetValueOrDefault(kind);

    public double Total => ByKind.Values.Sum();
}

/// <summary>What a number of runs asked of the projection's Azurite and the task hub's, and the CPU it took.</summary>
public sealed record StorageCount(int Runs, TimeSpan Elapsed, StorageRequests Projection, StorageRequests Engine, CpuUse Cpu)
{
    public double PerRun(double value) => value / Runs;
}

/// <param name="AgentTasks">Agent tasks of each run.</param>
public sealed record StorageResult(int Runs, int AgentTasks, StorageCount Orchflow, StorageCount Bare)
{
    /// <summary>The same runs again on the same host, each read on its event stream from its start to its end.</summary>
    public StorageCount? OrchflowWatched { get; init; }
}
