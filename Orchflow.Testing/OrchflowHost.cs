namespace Orchflow.Testing;

/// <summary>
/// The standalone host (Orchflow.LocalHost as built) as a separate process, configured by environment variables alone,
/// as users run it. Its storage, tables and task hub are named in its settings; a restart keeps them: that is what
/// durability means. Stopped (SIGTERM, then kill) on dispose.
/// </summary>
public sealed class OrchflowHost : IAsyncDisposable
{
    public const string ConnectionStringSetting = "Orchflow__Storage__ConnectionString";
    public const string TablePrefixSetting = "Orchflow__Storage__TablePrefix";
    public const string TaskHubSetting = "Orchflow__Durable__TaskHub";
    public const string WebhookQueueSetting = "ORCHFLOW_WEBHOOK_QUEUE";

    /// <summary>The setting of the first and second allowed private ranges, which the defaults set to loopback.</summary>
    public static readonly string[] AllowedPrivateRangeSettings =
        ["Orchflow__Network__AllowedPrivateRanges__0", "Orchflow__Network__AllowedPrivateRanges__1"];

    /// <summary>
    /// What the tests and the bench run every host with before their own settings: Development, loopback allowed for the
    /// model, tool and webhook servers they run on this machine, and rate limits no client of theirs meets (the tests
    /// that check the limits set their own). A host that must allow no private range sets <see cref="NoPrivateRanges"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> LocalDefaults { get; } = new Dictionary<string, string>
    {
        ["DOTNET_ENVIRONMENT"] = "Development",
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        [AllowedPrivateRangeSettings[0]] = "127.0.0.0/8",
        [AllowedPrivateRangeSettings[1]] = "::1/128",
        ["Orchflow__RateLimit__PerMinute"] = "1000000",
        ["Orchflow__RateLimit__Burst"] = "1000000",
        ["Orchflow__RateLimit__RegisterPerMinute"] = "1000000",
        ["Orchflow__RateLimit__FailedAuthPerMinute"] = "1000000",
    };

    /// <summary>Settings over <see cref="LocalDefaults"/> that take loopback off the allowed ranges (blank entries are none).</summary>
    public static IReadOnlyDictionary<string, string> NoPrivateRanges { get; } = AllowedPrivateRangeSettings.ToDictionary(s => s, _ => "");

    readonly Dictionary<string, string> environment;
    ChildProcess? process;
    string previousOutput = "";

    readonly string listenHost;

    OrchflowHost(Dictionary<string, string> environment, int port, string listenHost)
    {
        this.environment = environment;
        this.listenHost = listenHost;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/api/v1/");
    }

    public int Port { get; }

    /// <summary>http://127.0.0.1:{port}/api/v1/</summary>
    public Uri BaseAddress { get; }

    /// <summary>Every setting the host was started with, storage and names included.</summary>
    public IReadOnlyDictionary<string, string> Settings => environment;

    /// <summary>The storage the host runs on.</summary>
    public string ConnectionString => environment[ConnectionStringSetting];

    /// <summary>The prefix of the host's own tables (<c>&lt;prefix&gt;Runs</c>, <c>&lt;prefix&gt;RateLimits</c>, …).</summary>
    public string TablePrefix => environment[TablePrefixSetting];

    public string TaskHub => environment[TaskHubSetting];

    /// <summary>The storage queue this host's webhook deliveries travel on (the host's default unless its settings name one).</summary>
    public string WebhookQueue => environment.GetValueOrDefault(WebhookQueueSetting, "orchflow-webhooks");

    /// <summary>The process id of the host running now.</summary>
    public int Pid => process?.Id ?? throw new InvalidOperationException("The host is not running.");

    /// <summary>Whether a host process was started and has not exited.</summary>
    public bool IsRunning => process is { HasExited: false };

    /// <summary>All the host printed, across restarts.</summary>
    public string Output => previousOutput + (process?.Output ?? "");

    /// <summary>
    /// Starts the host on a free loopback port and waits until it answers <c>GET /health</c>. <paramref name="environment"/>
    /// must name its storage, table prefix and task hub. With <paramref name="allInterfaces"/> it listens on every
    /// interface (0.0.0.0), as a host reachable from other machines does.
    /// </summary>
    public static async Task<OrchflowHost> StartAsync(
        IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken = default, bool allInterfaces = false)
    {
        foreach (var required in new[] { ConnectionStringSetting, TablePrefixSetting, TaskHubSetting })
        {
            if (!environment.ContainsKey(required))
            {
                throw new ArgumentException($"The host's settings must name {required}.", nameof(environment));
            }
        }

        var host = new OrchflowHost(new Dictionary<string, string>(environment), Ports.FreeLoopbackPort(), allInterfaces ? "0.0.0.0" : "127.0.0.1");
        await host.LaunchAsync(cancellationToken);
        return host;
    }

    /// <summary>Stops the host process (SIGTERM, then kill) and starts a new one on the same port, tables and hub.</summary>
    public async Task RestartAsync(bool kill = false)
    {
        await StopProcessAsync(kill);
        await LaunchAsync(CancellationToken.None);
    }

    /// <summary>Kills the host process (SIGKILL), as a crash would, and starts none in its place.</summary>
    public Task KillAsync() => StopProcessAsync(kill: true);

    /// <summary>Kills the host process at once, for a caller that is about to die itself.</summary>
    public void Kill() => process?.Kill();

    /// <summary>Stops the host process (SIGTERM) and starts none in its place; true when it ended by itself, cleanly, within the grace period.</summary>
    public Task<bool> StopAsync() => StopProcessAsync(kill: false);

    /// <summary>Starts the host again after <see cref="StopAsync"/> or <see cref="KillAsync"/>, on the same port, tables and hub.</summary>
    public Task StartAgainAsync() => LaunchAsync(CancellationToken.None);

    async Task LaunchAsync(CancellationToken cancellationToken)
    {
        var dll = RepoPaths.LocalHostDll;
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"The standalone host is not built at {dll}; scripts/test.sh and scripts/bench.sh build it.");
        }

        process = ChildProcess.Start("dotnet", [dll, "--urls", $"http://{listenHost}:{Port}"], environment, Path.GetDirectoryName(dll));
        try
        {
            await process.WaitUntilHealthyAsync(new Uri(BaseAddress, "health"), TimeSpan.FromSeconds(60), cancellationToken);
        }
        catch
        {
            // A host that never became healthy is no one's to stop later: stop it here.
            previousOutput += process.Output + "\n";
            process.Dispose();
            process = null;
            throw;
        }
    }

    async Task<bool> StopProcessAsync(bool kill)
    {
        if (process is null)
        {
            return true;
        }

        var byItself = false;
        if (kill)
        {
            process.Kill();
        }
        else
        {
            byItself = await process.StopAsync(TimeSpan.FromSeconds(15));
        }

        previousOutput += process.Output + "\n";
        process.Dispose();
        process = null;
        return byItself;
    }

    public async ValueTask DisposeAsync() => await StopProcessAsync(kill: false);
}
