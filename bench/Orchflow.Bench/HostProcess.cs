using Orchflow.Tests.Support;

namespace Orchflow.Bench;

/// <summary>
/// The standalone host (the built Release dll) as a child process on Azurite, with its own tables and task hub and the
/// simulated model at a given latency. Stopped (SIGTERM, then kill) on dispose.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    readonly ChildProcess process;

    HostProcess(ChildProcess process, int port, string taskHub, string tablePrefix, string connectionString)
    {
        this.process = process;
        TaskHub = taskHub;
        TablePrefix = tablePrefix;
        ConnectionString = connectionString;
        Api = new Uri($"http://127.0.0.1:{port}/api/v1/");
    }

    public Uri Api { get; }

    public string TaskHub { get; }

    /// <summary>The prefix of the host's own tables (<c>&lt;prefix&gt;Runs</c>, <c>&lt;prefix&gt;RateLimits</c>, …).</summary>
    public string TablePrefix { get; }

    /// <summary>The storage the host runs on.</summary>
    public string ConnectionString { get; }

    public int Pid => process.Id;

    /// <summary>Everything the host printed: its warnings and errors, since the bench starts it at level Warning.</summary>
    public string Output => process.Output;

    public static async Task<HostProcess> StartAsync(
        string connectionString, int modelLatencyMs, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        var dll = RepoPaths.LocalHostDll;
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"The standalone host is not built at {dll}; run scripts/bench.sh (it builds it).");
        }

        var id = Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string>
        {
            ["Orchflow__Storage__ConnectionString"] = connectionString,
            ["Orchflow__Storage__TablePrefix"] = "bench" + id,
            ["Orchflow__Durable__TaskHub"] = "bench" + id,
            ["Orchflow__Simulated__LatencyMs"] = modelLatencyMs.ToString(),
            // One account drives many runs; the trial allowance must not end the measurement.
            ["Orchflow__TrialRuns"] = "1000000",
            // The figures measure the engine and the projection, so no phase may be slowed by the rate limiter: 50 pollers
            // on one key ask far more than its default 300 a minute. The load phase sets the limits it exercises.
            ["Orchflow__RateLimit__PerMinute"] = "1000000",
            ["Orchflow__RateLimit__Burst"] = "1000000",
            ["Orchflow__RateLimit__RegisterPerMinute"] = "1000000",
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            // The engine is measured, not the console: per-run information lines are left out.
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        var port = Ports.FreeLoopbackPort();
        var directory = Path.GetDirectoryName(dll)!;
        var process = ChildProcess.Start("dotnet", [dll, "--urls", $"http://127.0.0.1:{port}", "--contentRoot", directory], environment, directory);
        var host = new HostProcess(process, port, environment["Orchflow__Durable__TaskHub"], environment["Orchflow__Storage__TablePrefix"], connectionString);
        try
        {
            await host.WaitUntilHealthyAsync(cancellationToken);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        return host;
    }

    Task WaitUntilHealthyAsync(CancellationToken cancellationToken) =>
        process.WaitUntilHealthyAsync(new Uri(Api, "health"), TimeSpan.FromSeconds(60), cancellationToken);

    /// <summary>Kills the host at once: for when the bench itself is going down.</summary>
    public void Kill() => process.Kill();

    public async ValueTask DisposeAsync()
    {
        await process.StopAsync(TimeSpan.FromSeconds(15));
        process.Dispose();
    }
}
