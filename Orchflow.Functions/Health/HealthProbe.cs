using Azure.Data.Tables;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Functions.Health;

/// <summary>What the health check found: each part Orchflow needs, and whether it answered.</summary>
public sealed record HealthReport(bool StorageReachable, bool DurableBackendReachable)
{
    public bool Healthy => StorageReachable && DurableBackendReachable;
}

/// <summary>
/// Checks the parts a request needs, cheaply: one point read of the projection's storage, and one instance lookup
/// through the durable client (the sidecar and its task hub in the standalone host; in Azure the Functions host's
/// durable extension and its task hub). Results are kept for a few seconds and concurrent callers share one check,
/// so however often health is asked for, storage sees at most a couple of reads every few seconds.
/// </summary>
public sealed class HealthProbe(OrchflowTables tables, TimeProvider clock, ILogger<HealthProbe> log)
{
    public const string Storage = "storage";
    public const string DurableBackend = "durable_backend";

    /// <summary>An instance id no run ever has: looking it up proves the backend answers, and finds nothing.</summary>
    const string ProbeInstanceId = "orchflow-health-probe";

    static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(3);

    /// <summary>A good answer is kept longer than a bad one, so a recovered part is seen again within a second.</summary>
    static readonly TimeSpan KeepHealthy = TimeSpan.FromSeconds(5);

    static readonly TimeSpan KeepUnhealthy = TimeSpan.FromSeconds(1);

    readonly Lock gate = new();
    Task<HealthReport>? current;
    DateTimeOffset currentUntil;
    HealthReport? last;

    public Task<HealthReport> CheckAsync(DurableTaskClient durable)
    {
        lock (gate)
        {
            var now = clock.GetUtcNow();
            if (current is null || (current.IsCompleted && now >= currentUntil))
            {
                currentUntil = DateTimeOffset.MaxValue;
                current = RunAsync(durable);
            }

            return current;
        }
    }

    async Task<HealthReport> RunAsync(DurableTaskClient durable)
    {
        var storage = CheckStorageAsync();
        var backend = CheckDurableAsync(durable);
        var report = new HealthReport(await storage, await backend);
        lock (gate)
        {
            currentUntil = clock.GetUtcNow() + (report.Healthy ? KeepHealthy : KeepUnhealthy);
            if (report != last)
            {
                // Logged when it changes, not on every check: an outage is one warning, its end one line.
                log.Log(report.Healthy ? LogLevel.Information : LogLevel.Warning, "Health: storage {Storage}, durable backend {DurableBackend}",
                    report.StorageReachable ? "reachable" : "unreachable", report.DurableBackendReachable ? "reachable" : "unreachable");
            }

            last = report;
        }

        return report;
    }

    async Task<bool> CheckStorageAsync()
    {
        using var timeout = new CancellationTokenSource(CheckTimeout, clock);
        try
        {
            await tables.EnsureCreatedAsync().WaitAsync(timeout.Token);
            // A point read of a row that does not exist: the cheapest request storage answers.
            await tables.Runs.GetEntityIfExistsAsync<TableEntity>(ProbeInstanceId, ProbeInstanceId, select: ["PartitionKey"], cancellationToken: timeout.Token);
            return true;
        }
        catch (Exception e) when (e is Azure.RequestFailedException or OperationCanceledException or TimeoutException or HttpRequestException or AggregateException)
        {
            log.LogDebug(e, "Health: storage did not answer");
            return false;
        }
    }

    async Task<bool> CheckDurableAsync(DurableTaskClient durable)
    {
        using var timeout = new CancellationTokenSource(CheckTimeout, clock);
        try
        {
            await durable.GetInstanceAsync(ProbeInstanceId, getInputsAndOutputs: false, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever the client throws (an RPC failure, a storage error relayed by the backend, a timeout) means one
            // thing here: the durable backend cannot serve a run now. The cause goes to the log, never to the caller.
            log.LogDebug(e, "Health: the durable backend did not answer");
            return false;
        }
    }
}
