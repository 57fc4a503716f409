namespace Orchflow.Bench;

/// <summary>What to measure and how much of it: the full run's counts, or the smoke run's tiny ones.</summary>
public sealed record BenchOptions
{
    public const string Usage = """
        usage: Orchflow.Bench [--smoke] [--only PHASES] [--set KEY=VALUE]... [--markdown FILE | --no-markdown]

          --smoke            tiny counts: checks that every phase still works, in seconds; writes nothing
          --only PHASES      comma-separated subset of: overhead, reads, throughput, memory, resume, latency, backend, load
          --set KEY=VALUE    an extra setting (environment variable) for every host, e.g.
                             Orchflow__Durable__MaxQueuePollingIntervalMs=100; Orchflow__Durable__* ones apply to the
                             bare engine too
          --markdown FILE    rewrite the generated section of FILE (default: BENCHMARKS.md of the repository, for a full
                             run with neither --only nor --set)
          --no-markdown      print the table only
          --idle SECONDS     how long the hub idles before the first answer (default 60)
          --resume-runs N    answers to time (default 20)
          --slow-runs N      runs at the slow model latency, each engine (default 10)
          --load-accounts N  accounts (API keys) of the load phase (default 40)
          --load-clients N   clients per account (default 5)
          --load-seconds N   how long the load's clients start runs, before the drain (default 60)
          --load-poll-ms N   between two reads of a run by a load client (default 250)
        """;

    public static readonly string[] Phases = ["overhead", "reads", "throughput", "memory", "resume", "latency", "backend", "load"];

    public bool Smoke { get; init; }

    public IReadOnlySet<string> Only { get; init; } = Phases.ToHashSet();

    public bool Partial => Only.Count < Phases.Length;

    public IReadOnlyDictionary<string, string> HostSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>Where the generated section goes; null to print only.</summary>
    public string? MarkdownFile { get; init; }

    /// <summary>Orchflow's plan for this goal (deterministic planner) has six agent tasks: three research branches in parallel, then three steps in turn.</summary>
    public string Goal { get; init; } = "Research 3 competitors, compare their pricing, then write a launch plan and summarise it.";

    /// <summary>A goal that waits on its human task before any agent starts: each such run is one orchestration paused on an event.</summary>
    public string HumanGoal { get; init; } = "Write a launch plan, then summarise it.";

    public int WarmupRuns { get; init; } = 3;

    public int OverheadRuns { get; init; } = 30;

    public int SlowModelLatencyMs { get; init; } = 1000;

    public int SlowModelRuns { get; init; } = 10;

    public int ReadPollers { get; init; } = 50;

    public TimeSpan ReadDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Runs started at once to saturate the engine; throughput is runs over the span from the first start to the last completion.</summary>
    public int ThroughputRuns { get; init; } = 120;

    /// <summary>Accounts (and client lanes) the load is spread over.</summary>
    public int Lanes { get; init; } = 8;

    public int WaitingRuns { get; init; } = 1000;

    public TimeSpan Idle { get; init; } = TimeSpan.FromSeconds(60);

    public int ResumeRuns { get; init; } = 20;

    /// <summary>Between two answers: long enough for the backend's queue polling to back off to its slowest again.</summary>
    public TimeSpan ResumeGap { get; init; } = TimeSpan.FromSeconds(3);

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

    public bool Runs(string phase) => Only.Contains(phase);

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var smoke = false;
        HashSet<string>? only = null;
        var settings = new Dictionary<string, string>();
        string? markdown = null;
        var noMarkdown = false;
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
        var writes = !smoke && !noMarkdown && (markdown is not null || (!options.Partial && settings.Count == 0 && counts.Count == 0));
        return options with { MarkdownFile = writes ? markdown ?? Path.Combine(Orchflow.Tests.Support.RepoPaths.Root, "BENCHMARKS.md") : null };
    }
}
