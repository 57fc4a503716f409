using DurableTask.AzureStorage;
using DurableTask.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Orchflow.Bench;

/// <summary>The backend settings the standalone host exposes (<c>Orchflow:Durable</c>), mirrored for the bare engine.</summary>
public sealed record DurableSettings(int PartitionCount, int MaxQueuePollingIntervalMs, int MaxConcurrentActivities, int MaxConcurrentOrchestrations)
{
    /// <summary>The standalone host's defaults, overridden by any <c>Orchflow__Durable__…</c> setting the host is given.</summary>
    public static DurableSettings For(IReadOnlyDictionary<string, string> hostSettings) => new(
        int.Parse(hostSettings.GetValueOrDefault("Orchflow__Durable__PartitionCount", "4")),
        int.Parse(hostSettings.GetValueOrDefault("Orchflow__Durable__MaxQueuePollingIntervalMs", "500")),
        int.Parse(hostSettings.GetValueOrDefault("Orchflow__Durable__MaxConcurrentActivities", "100")),
        int.Parse(hostSettings.GetValueOrDefault("Orchflow__Durable__MaxConcurrentOrchestrations", "100")));
}

/// <summary>
/// A Durable Task stack in the bench process, wired like the standalone host's backend: the Azure Storage orchestration
/// service behind the gRPC sidecar on a loopback port, with a gRPC client and, optionally, a worker that runs the bare
/// orchestrations. Without a worker it only serves the client: it never takes the task hub's partitions.
/// </summary>
public sealed class DurableStack : IAsyncDisposable
{
    readonly WebApplication sidecar;
    readonly IHost clients;

    DurableStack(WebApplication sidecar, IHost clients, string taskHub)
    {
        this.sidecar = sidecar;
        this.clients = clients;
        TaskHub = taskHub;
        Client = clients.Services.GetRequiredService<DurableTaskClient>();
    }

    public DurableTaskClient Client { get; }

    public string TaskHub { get; }

    public static async Task<DurableStack> StartAsync(
        string connectionString, string taskHub, DurableSettings settings, bool runWorker, CancellationToken cancellationToken)
    {
        var service = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(connectionString),
            TaskHubName = taskHub,
            PartitionCount = settings.PartitionCount,
            MaxQueuePollingInterval = TimeSpan.FromMilliseconds(settings.MaxQueuePollingIntervalMs),
            WorkItemQueueVisibilityTimeout = TimeSpan.FromSeconds(60),
            ControlQueueVisibilityTimeout = TimeSpan.FromSeconds(60),
            MaxConcurrentTaskActivityWorkItems = settings.MaxConcurrentActivities,
            MaxConcurrentTaskOrchestrationWorkItems = settings.MaxConcurrentOrchestrations,
        });
        await service.CreateIfNotExistsAsync();

        var address = $"http://127.0.0.1:{Ports.FreeLoopbackPort()}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.WebHost.UseUrls(address);
        builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 16 * 1024 * 1024);
        builder.Services.AddSingleton<IOrchestrationService>(service);
        builder.Services.AddSingleton<IOrchestrationServiceClient>(service);
        builder.Services.AddSingleton<TaskHubGrpcServer>();
        // Without a worker the sidecar only answers the client: it never starts dispatching (or stopping) the hub.
        builder.Services.Configure<TaskHubGrpcServerOptions>(o =>
            o.Mode = runWorker ? TaskHubGrpcServerMode.ApiServerAndDispatcher : TaskHubGrpcServerMode.ApiServerOnly);
        var sidecar = builder.Build();
        sidecar.MapGrpcService<TaskHubGrpcServer>();
        await sidecar.StartAsync(cancellationToken);

        var host = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        host.Logging.ClearProviders();
        host.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        host.Services.AddDurableTaskClient(client => client.UseGrpc(address));
        if (runWorker)
        {
            host.Services.AddDurableTaskWorker(worker =>
            {
                worker.UseGrpc(address);
                worker.AddTasks(tasks =>
                {
                    tasks.AddOrchestrator<DagOrchestrator>();
                    tasks.AddOrchestrator<FanOutOrchestrator>();
                    tasks.AddOrchestrator<SequenceOrchestrator>();
                    tasks.AddOrchestrator<EventsOrchestrator>();
                    tasks.AddActivity<ModelStepActivity>();
                });
            });
        }

        var clients = host.Build();
        try
        {
            await clients.StartAsync(cancellationToken);
        }
        catch
        {
            clients.Dispose();
            await sidecar.StopAsync(CancellationToken.None);
            await sidecar.DisposeAsync();
            throw;
        }

        return new DurableStack(sidecar, clients, taskHub);
    }

    public async ValueTask DisposeAsync()
    {
        // The worker first, so it does not see its sidecar go away mid-call.
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await clients.StopAsync(grace.Token);
        clients.Dispose();
        await sidecar.StopAsync(grace.Token);
        await sidecar.DisposeAsync();
    }
}
