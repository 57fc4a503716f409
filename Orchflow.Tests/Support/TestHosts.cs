using Azure;
using Azure.Storage.Queues;

namespace Orchflow.Tests.Support;

/// <summary>
/// Standalone hosts as the tests run them: on the suite's Azurite (unless given another), with tables, a task hub and a
/// webhook queue of their own, the simulated model answering at once, and limits no test meets unless it sets them.
/// Idle queues are polled as the standalone host polls them by default (at most every 500 ms): a host wakes its own
/// queues when it writes to them, so a run started or answered through it goes on at once, and a faster poll only cost
/// each idle host and Azurite about a tenth of a core more (measured: a quarter of a core at 100 ms, under a seventh at
/// 500 ms).
/// </summary>
public static class TestHosts
{
    /// <summary>What every test host runs with before a test's own settings.</summary>
    public static IReadOnlyDictionary<string, string> Defaults { get; } = new Dictionary<string, string>(OrchflowHost.LocalDefaults)
    {
        ["Orchflow__Simulated__LatencyMs"] = "0",
        ["Logging__LogLevel__Default"] = "Information",
    };

    /// <summary>
    /// Settings over the defaults for a host that runs as a deployment does: outside Development, with secrets of its
    /// own (made once per test run, so fixtures that use them share a host) and no private range allowed.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Deployment { get; } = new Dictionary<string, string>(OrchflowHost.NoPrivateRanges)
    {
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["Orchflow__Security__ApiKeyPepper"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        ["Orchflow__Security__SecretsKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
    };

    /// <summary>The defaults with <paramref name="settings"/> over them: what a host started with these settings runs with.</summary>
    public static IReadOnlyDictionary<string, string> With(IReadOnlyDictionary<string, string>? settings)
    {
        var merged = new Dictionary<string, string>(Defaults);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            merged[key] = value;
        }

        return merged;
    }

    /// <summary>
    /// Starts a host with the defaults and <paramref name="settings"/> over them; a setting that names the tables or the
    /// task hub joins another host's.
    /// </summary>
    public static Task<OrchflowHost> StartAsync(IReadOnlyDictionary<string, string>? settings = null, string? connectionString = null, bool allInterfaces = false)
    {
        var id = Guid.NewGuid().ToString("N")[..10];
        var environment = new Dictionary<string, string>(With(settings));
        // Fresh names, unless the settings name the tables or the task hub of another host to join.
        environment.TryAdd(OrchflowHost.ConnectionStringSetting, connectionString ?? TestEnvironment.Azurite.ConnectionString);
        environment.TryAdd(OrchflowHost.TablePrefixSetting, "t" + id);
        environment.TryAdd(OrchflowHost.TaskHubSetting, "hub" + id);
        environment.TryAdd(OrchflowHost.WebhookQueueSetting, "hooks-" + id);
        return OrchflowHost.StartAsync(environment, allInterfaces: allInterfaces);
    }

    /// <summary>
    /// Waits until the host has nothing left to do: its task hub's queues and its webhook queue hold no message, visible
    /// or not, so no orchestration turn, activity, durable timer, webhook dispatch or retry is pending or under way. What
    /// a test reads after that stays as read. A run with a human timeout keeps a timer queued until it fires: a host
    /// with one is not at rest before then.
    /// </summary>
    public static async Task WaitUntilAtRestAsync(OrchflowHost host, TimeSpan? timeout = null)
    {
        var service = new QueueServiceClient(host.ConnectionString);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var pending = new List<string>();
            var queues = new List<string> { host.WebhookQueue };
            await foreach (var queue in service.GetQueuesAsync(prefix: host.TaskHub.ToLowerInvariant() + "-"))
            {
                queues.Add(queue.Name);
            }

            foreach (var name in queues)
            {
                try
                {
                    var count = (await service.GetQueueClient(name).GetPropertiesAsync()).Value.ApproximateMessagesCount;
                    if (count > 0)
                    {
                        pending.Add($"{name}: {count}");
                    }
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    // A host that never had a webhook to deliver has no webhook queue yet.
                }
            }

            if (pending.Count == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"The host on port {host.Port} did not come to rest: messages still queued in {string.Join(", ", pending)}.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Ends a test's host at once (SIGKILL). Its tables and task hub are never used again, so the graceful stop, which
    /// hands its leases to a successor, would cost seconds for nothing.
    /// </summary>
    public static async Task EndAsync(OrchflowHost host)
    {
        await host.KillAsync();
        await host.DisposeAsync();
    }
}
