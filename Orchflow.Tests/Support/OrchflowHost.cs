namespace Orchflow.Tests.Support;

/// <summary>
/// The standalone host as a separate process on Azurite, as users run it. Each instance gets its own tables and
/// task hub, so test fixtures do not see each other's data. Restart keeps both: that is what durability means.
/// </summary>
public sealed class OrchflowHost : IAsyncDisposable
{
    readonly Dictionary<string, string> environment;
    ChildProcess? process;

    OrchflowHost(Dictionary<string, string> environment, int port)
    {
        this.environment = environment;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/api/v1/");
    }

    public int Port { get; }

    public Uri BaseAddress { get; }

    /// <summary>Table name prefix of this host's projection, for tests that inspect storage directly.</summary>
    public string TablePrefix => environment["Orchflow__Storage__TablePrefix"];

    public string TaskHub => environment["Orchflow__Durable__TaskHub"];

    /// <summary>The storage queue this host's webhook deliveries travel on.</summary>
    public string WebhookQueue => environment["Orchflow__Webhooks__Queue"];

    /// <summary>All the host printed, across restarts.</summary>
    public string Output => previousOutput + (process?.Output ?? "");

    string previousOutput = "";

    public static async Task<OrchflowHost> StartAsync(string connectionString, IReadOnlyDictionary<string, string>? settings = null)
    {
        var id = Guid.NewGuid().ToString("N")[..10];
        var environment = new Dictionary<string, string>
        {
            ["Orchflow__Storage__ConnectionString"] = connectionString,
            ["Orchflow__Storage__TablePrefix"] = "t" + id,
            ["Orchflow__Durable__TaskHub"] = "hub" + id,
            ["Orchflow__Webhooks__Queue"] = "hooks-" + id,
            ["Orchflow__Durable__MaxQueuePollingIntervalMs"] = "100",
            ["Orchflow__Simulated__LatencyMs"] = "0",
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Logging__LogLevel__Default"] = "Information",
            // Tests poll fast and register an account each; the rate limit tests set the limits they check.
            ["Orchflow__RateLimit__PerMinute"] = "1000000",
            ["Orchflow__RateLimit__Burst"] = "1000000",
            ["Orchflow__RateLimit__RegisterPerMinute"] = "1000000",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var host = new OrchflowHost(environment, Ports.FreeLoopbackPort());
        await host.LaunchAsync();
        return host;
    }

    /// <summary>Stops the host process (SIGTERM, then kill) and starts a new one on the same port, tables and hub.</summary>
    public async Task RestartAsync(bool kill = false)
    {
        await StopProcessAsync(kill);
        await LaunchAsync();
    }

    /// <summary>Kills the host process (SIGKILL), as a crash would, and starts none in its place.</summary>
    public Task KillAsync() => StopProcessAsync(kill: true);

    /// <summary>Stops the host process (SIGTERM) and starts none in its place; true when it ended by itself, cleanly, within the grace period.</summary>
    public Task<bool> StopAsync() => StopProcessAsync(kill: false);

    /// <summary>Starts the host again after <see cref="StopAsync"/> or <see cref="KillAsync"/>, on the same port, tables and hub.</summary>
    public Task StartAgainAsync() => LaunchAsync();

    async Task LaunchAsync()
    {
        if (!File.Exists(RepoPaths.LocalHostDll))
        {
            throw new InvalidOperationException($"The standalone host is not built at {RepoPaths.LocalHostDll}.");
        }

        process = ChildProcess.Start("dotnet", [RepoPaths.LocalHostDll, "--urls", $"http://127.0.0.1:{Port}"], environment,
            Path.GetDirectoryName(RepoPaths.LocalHostDll));
        try
        {
            await process.WaitUntilHealthyAsync(new Uri(BaseAddress, "health"), TimeSpan.FromSeconds(60));
        }
        catch
        {
            // A host that never became healthy is no one's to stop later: stop it here.
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
