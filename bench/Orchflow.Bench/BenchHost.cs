namespace Orchflow.Bench;

/// <summary>
/// The standalone host as the bench runs it: the built Release dll on Azurite, with its own tables and task hub and the
/// simulated model at a given latency, logging warnings only. No phase may be slowed by the rate limiter (50 pollers on
/// one key ask far more than its default 300 a minute), so the local defaults lift it; the load phase sets the limits
/// it exercises.
/// </summary>
public static class BenchHost
{
    public static Task<OrchflowHost> StartAsync(
        string connectionString, int modelLatencyMs, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string>(OrchflowHost.LocalDefaults)
        {
            [OrchflowHost.ConnectionStringSetting] = connectionString,
            [OrchflowHost.TablePrefixSetting] = "bench" + id,
            [OrchflowHost.TaskHubSetting] = "bench" + id,
            ["Orchflow__Simulated__LatencyMs"] = modelLatencyMs.ToString(),
            // One account drives many runs; neither the trial allowance nor the active-run limit may end the measurement.
            ["Orchflow__TrialRuns"] = "1000000",
            ["Orchflow__Accounts__MaxActiveRuns"] = "100000",
            // The fan-out figure holds 200 streams of one account on one run; the load phases set the default quota back.
            ["Orchflow__Streams__MaxPerCaller"] = "10000",
            // The engine is measured, not the console: per-run information lines are left out.
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        return OrchflowHost.StartAsync(environment, cancellationToken);
    }
}
