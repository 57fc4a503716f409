namespace Orchflow.Bench;

/// <summary>What to measure and how much of it: the full run's counts, or the smoke run's tiny ones.</summary>
public sealed record BenchOptions
{
    public const string Usage = """
        usage: Orchflow.Bench [--smoke] [--only PHASES] [--set KEY=VALUE]... [--split-storage] [--markdown FILE | --no-markdown]

          --smoke            tiny counts: checks that every phase still works, in seconds; writes nothing
          --only PHASES      comma-separated subset of: overhead, reads, conditional, throughput, memory, resume, latency,
                             backend, load, list, sse, limits, storage, tools, output, streaming, mcp, hostile, abuse
          --set KEY=VALUE    an extra setting (environment variable) for every host, e.g.
                             Orchflow__Durable__MaxQueuePollingIntervalMs=100; Orchflow__Durable__* ones apply to the
                             bare engine too
          --split-storage    the hosts' tables on a second Azurite, apart from the task hubs', as ORCHFLOW_API_STORAGE=separate
                             deploys them (default: one Azurite, as the default deployment)
          --markdown FILE    rewrite the generated section of FILE (default: BENCHMARKS.md of the repository, for a full
                             run with neither --only nor --set)
          --no-markdown      print the table only
          --update-results   write this run's figures into bench/results.json, keeping the others (for a run of some phases)
          --idle SECONDS     how long the hub idles before the first answer (default 40)
          --resume-runs N    answers to time (default 20)
          --slow-runs N      runs at the slow model latency, each engine (default 6)
          --load-accounts N  accounts (API keys) of the load phase (default 40)
          --load-clients N   clients per account (default 5)
          --load-seconds N   how long the load's clients start runs, before the drain (default 60)
          --load-poll-ms N   between two reads of a run by a load client (default 250)
        """;

    public static readonly string[] Phases =
        ["overhead", "reads", "conditional", "throughput", "memory", "resume", "latency", "backend", "load", "list", "sse", "limits", "storage",
         "tools", "output", "streaming", "mcp", "hostile", "abuse"];

    public bool Smoke { get; init; }

    /// <summary>
    /// The hosts' projection and API tables on an Azurite of their own, apart from the task hubs' (<c>--split-storage</c>):
    /// as a deployment with <c>ORCHFLOW_API_STORAGE=separate</c> keeps them. Off by default, the default deployment's
    /// topology: one account for both.
    /// </summary>
    public bool SplitStorage { get; init; }

    public IReadOnlySet<string> Only { get; init; } = Phases.ToHashSet();

    public bool Partial => Only.Count < Phases.Length;

    public IReadOnlyDictionary<string, string> HostSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>Where the generated section goes; null to print only.</summary>
    public string? MarkdownFile { get; init; }

    /// <summary>Where the headline figures go as JSON (bench/results.json, for a full run only); null to write none.</summary>
    public string? ResultsFile { get; init; }

    /// <summary>Where the figures of a partial run go, each over its own key only (<c>--update-results</c>); null to write none.</summary>
    public string? UpdateResultsFile { get; init; }

    /// <summary>Orchflow's plan for this goal (deterministic planner) has six agent tasks: three research branches in parallel, then three steps in turn.</summary>
    public string Goal { get; init; } = "Research 3 competitors, compare their pricing, then write a launch plan and summarise it.";

    /// <summary>A goal that waits on its human task before any agent starts: each such run is one orchestration paused on an event.</summary>
    public string HumanGoal { get; init; } = "Write a launch plan, then summarise it.";

    public int WarmupRuns { get; init; } = 3;

    public int OverheadRuns { get; init; } = 30;

    public int SlowModelLatencyMs { get; init; } = 1000;

    public int SlowModelRuns { get; init; } = 6;

    public int ReadPollers { get; init; } = 50;

    public TimeSpan ReadDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Runs started at once to saturate the engine; throughput is runs over the span from the first start to the last completion.</summary>
    public int ThroughputRuns { get; init; } = 120;

    /// <summary>Accounts (and client lanes) the load is spread over.</summary>
    public int Lanes { get; init; } = 8;

    public int WaitingRuns { get; init; } = 1000;

    public TimeSpan Idle { get; init; } = TimeSpan.FromSeconds(40);

    public int ResumeRuns { get; init; } = 20;

    /// <summary>
    /// Between two answers: long enough for the backend's queue polling to back off to its slowest again (four times the
    /// standalone host's slowest interval, 500 ms).
    /// </summary>
    public TimeSpan ResumeGap { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Activities (or events) in each per-instance backend figure.</summary>
    public int PerInstanceCount { get; init; } = 100;

    /// <summary>Accounts of the load phase; each is one API key, so one rate-limit bucket.</summary>
    public int LoadAccounts { get; init; } = 40;

    public int LoadClientsPerAccount { get; init; } = 5;

    /// <summary>How long the load's clients keep starting runs; the runs in hand are finished after it.</summary>
    public TimeSpan LoadWindow { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Between two reads of a run by a load client: a demanding client, twelve times the public docs' 3 s, so five clients
    /// of one key ask for about four times the default per-key limit (300 a minute).
    /// </summary>
    public TimeSpan LoadPollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Runs the list phase's small account holds.</summary>
    public int ListSmallRuns { get; init; } = 10;

    /// <summary>Runs the list phase's large account holds, seeded through the run store.</summary>
    public int ListLargeRuns { get; init; } = 10_000;

    /// <summary>The deep page of the large account: <c>offset</c> of the third list figure.</summary>
    public int ListOffset { get; init; } = 9_000;

    /// <summary>Timed reads of each list figure, taken in turn (one of each per round).</summary>
    public int ListSamples { get; init; } = 10;

    /// <summary>Clients watching one run's live stream in the sse phase.</summary>
    public int SseSubscribers { get; init; } = 200;

    /// <summary>Human tasks of the sse phase's run, each followed by an agent task: about six events per pair.</summary>
    public int SseHumanSteps { get; init; } = 5;

    /// <summary>The simulated model of the sse phase: each agent task takes this long, so its events come apart.</summary>
    public int SseModelLatencyMs { get; init; } = 200;

    /// <summary>From every subscriber having the run waiting on its human to the bench answering.</summary>
    public TimeSpan SseGap { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>How long every subscriber watches before the first answer, nothing changing: the stream's idle reads.</summary>
    public TimeSpan SseIdle { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>API keys of each limits host, each polling one run of its own.</summary>
    public int LimitKeys { get; init; } = 40;

    /// <summary>Between two reads of one key: 4 a second, under the default 300 a minute (5 a second), so nothing is refused.</summary>
    public TimeSpan LimitPollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan LimitDuration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Runs of the storage phase, on each side, started at once: what a run asks of storage is their mean.</summary>
    public int StorageRuns { get; init; } = 20;

    /// <summary>Echo calls timed each way in the tools phase (through Orchflow's loop, at most 50 a run, and directly).</summary>
    public int ToolCalls { get; init; } = 100;

    /// <summary>Runs the mcp phase starts as MCP tasks and answers through an input response, one at a time.</summary>
    public int McpRuns { get; init; } = 20;

    /// <summary>Between a run's input request seen and its answer sent, in the mcp phase.</summary>
    public TimeSpan McpGap { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Calls a person approves in the tools phase, one run.</summary>
    public int ApprovalCalls { get; init; } = 20;

    /// <summary>Runs of the output phase, on one host and again on two.</summary>
    public int OutputRuns { get; init; } = 10;

    /// <summary>Words the output phase's model streams for each run's task.</summary>
    public int OutputWords { get; init; } = 40;

    /// <summary>Between two words the output phase's model writes.</summary>
    public TimeSpan OutputWordInterval { get; init; } = TimeSpan.FromMilliseconds(25);

    public bool Runs(string phase) => Only.Contains(phase);

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var smoke = false;
        HashSet<string>? only = null;
        var settings = new Dictionary<string, string>();
        string? markdown = null;
        var noMarkdown = false;
        var updateResults = false;
        var splitStorage = false;
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--smoke":
                    smoke = true;
                    break;
                case "--only":
                    only = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
                    if (only.Except(Phases).FirstOrDefault() is { } unknown)
                    {
                        throw new ArgumentException($"Unknown phase '{unknown}'.");
                    }

                    break;
                case "--set":
                    var pair = Value().Split('=', 2);
                    if (pair.Length != 2 || pair[0].Length == 0)
                    {
                        throw new ArgumentException("--set takes KEY=VALUE.");
                    }

                    settings[pair[0]] = pair[1];
                    break;
                case "--markdown":
                    markdown = Value();
                    break;
                case "--no-markdown":
                    noMarkdown = true;
                    break;
                case "--split-storage":
                    splitStorage = true;
                    break;
                case "--update-results":
                    updateResults = true;
                    break;
                case "--idle" or "--resume-runs" or "--slow-runs" or "--load-accounts" or "--load-clients" or "--load-seconds" or "--load-poll-ms":
                    var name = args[i];
                    var least = name.StartsWith("--load-", StringComparison.Ordinal) ? 1 : 0;
                    counts[name] = int.TryParse(Value(), out var n) && n >= least ? n : throw new ArgumentException($"{name} takes a whole number of at least {least}.");
                    break;
                case "-h" or "--help":
                    throw new ArgumentException("");
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }

        var options = new BenchOptions { HostSettings = settings, Only = only ?? Phases.ToHashSet() };
        if (smoke)
        {
            options = options with
            {
                Smoke = true,
                WarmupRuns = 1,
                OverheadRuns = 2,
                SlowModelLatencyMs = 100,
                SlowModelRuns = 1,
                ReadPollers = 5,
                ReadDuration = TimeSpan.FromSeconds(1),
                ThroughputRuns = 6,
                Lanes = 2,
                WaitingRuns = 6,
                Idle = TimeSpan.Zero,
                ResumeRuns = 2,
                ResumeGap = TimeSpan.FromMilliseconds(200),
                PerInstanceCount = 5,
                LoadAccounts = 2,
                LoadClientsPerAccount = 2,
                LoadWindow = TimeSpan.FromSeconds(2),
                ListSmallRuns = 3,
                ListLargeRuns = 30,
                ListOffset = 20,
                ListSamples = 2,
                SseSubscribers = 3,
                SseHumanSteps = 1,
                SseModelLatencyMs = 50,
                SseGap = TimeSpan.FromMilliseconds(50),
                SseIdle = TimeSpan.FromMilliseconds(500),
                LimitKeys = 2,
                LimitDuration = TimeSpan.FromSeconds(1),
                StorageRuns = 2,
                ToolCalls = 3,
                McpRuns = 2,
                McpGap = TimeSpan.FromMilliseconds(50),
                ApprovalCalls = 2,
                OutputRuns = 1,
                OutputWords = 5,
            };
        }

        options = options with
        {
            Idle = counts.TryGetValue("--idle", out var idle) ? TimeSpan.FromSeconds(idle) : options.Idle,
            ResumeRuns = counts.GetValueOrDefault("--resume-runs", options.ResumeRuns),
            SlowModelRuns = counts.GetValueOrDefault("--slow-runs", options.SlowModelRuns),
            LoadAccounts = counts.GetValueOrDefault("--load-accounts", options.LoadAccounts),
            LoadClientsPerAccount = counts.GetValueOrDefault("--load-clients", options.LoadClientsPerAccount),
            LoadWindow = counts.TryGetValue("--load-seconds", out var window) ? TimeSpan.FromSeconds(window) : options.LoadWindow,
            LoadPollInterval = counts.TryGetValue("--load-poll-ms", out var poll) ? TimeSpan.FromMilliseconds(poll) : options.LoadPollInterval,
        };
        options = options with { SplitStorage = splitStorage };
        var full = !smoke && !options.Partial && settings.Count == 0 && counts.Count == 0 && !splitStorage;
        var writes = !smoke && !noMarkdown && (markdown is not null || full);
        return options with
        {
            MarkdownFile = writes ? markdown ?? Path.Combine(RepoPaths.Root, "BENCHMARKS.md") : null,
            // The figures issue 15 tracks, from one full run as committed with BENCHMARKS.md; never from a part of one.
            ResultsFile = full && !noMarkdown && markdown is null ? Path.Combine(RepoPaths.Root, "bench", "results.json") : null,
            UpdateResultsFile = updateResults && !full && !smoke ? Path.Combine(RepoPaths.Root, "bench", "results.json") : null,
        };
    }
}
