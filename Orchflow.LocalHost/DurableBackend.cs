using System.Net;
using System.Net.Sockets;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.Extensions.Options;

namespace Orchflow.LocalHost;

/// <summary>
/// The Durable Task backend of the standalone host: the Azure Storage orchestration service (the one Durable
/// Functions uses) behind the Durable Task gRPC sidecar, served in-process on a loopback HTTP/2 port. The worker
/// and client connect to <see cref="Address"/> exactly as they would to any sidecar.
/// </summary>
public sealed class DurableBackend : IHostedService, IAsyncDisposable
{
    readonly DurableBackendOptions options;
    readonly string connectionString;
    readonly ILoggerFactory loggerFactory;
    WebApplication? sidecar;
    ActivityLockRenewal? renewal;

    public DurableBackend(IOptions<DurableBackendOptions> options, IConfiguration configuration, ILoggerFactory loggerFactory)
    {
        this.options = options.Value;
        this.loggerFactory = loggerFactory;
        connectionString = this.options.ConnectionString
                           ?? configuration["Orchflow:Storage:ConnectionString"]
                           ?? throw new InvalidOperationException("Set Orchflow:Storage:ConnectionString (Azurite locally).");
        Address = SidecarAddress;
    }

    /// <summary>The sidecar's port is chosen once per process, before DI builds the worker and client that use it.</summary>
    public static readonly string SidecarAddress = $"http://127.0.0.1:{FreeLoopbackPort()}";

    public string Address { get; }

    /// <summary>This process's name in the task hub's partition table.</summary>
    public static string WorkerId { get; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    public AzureStorageOrchestrationService? Service { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var visibility = TimeSpan.FromSeconds(options.WorkItemVisibilityTimeoutSeconds);
        Service = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(connectionString),
            TaskHubName = options.TaskHub,
            PartitionCount = options.PartitionCount,
            MaxQueuePollingInterval = TimeSpan.FromMilliseconds(options.MaxQueuePollingIntervalMs),
            // The default is the machine name, which every host on one machine shares: they would all take themselves
            // for the owner of every partition, and none would ever see another's lease expire.
            WorkerId = WorkerId,
            WorkItemQueueVisibilityTimeout = visibility,
            ControlQueueVisibilityTimeout = visibility,
            // Said explicitly because the lease settings below are tuned for it; the other partition managers use blob
            // leases with their own renew interval.
            UseTablePartitionManagement = true,
            LeaseInterval = TimeSpan.FromSeconds(options.LeaseIntervalSeconds),
            LeaseAcquireInterval = TimeSpan.FromSeconds(options.LeaseAcquireIntervalSeconds),
            MaxConcurrentTaskActivityWorkItems = options.MaxConcurrentActivities,
            MaxConcurrentTaskOrchestrationWorkItems = options.MaxConcurrentOrchestrations,
            LoggerFactory = loggerFactory,
        });
        await Service.CreateIfNotExistsAsync();
        loggerFactory.CreateLogger<DurableBackend>().LogInformation(
            "Worker {WorkerId} on task hub {TaskHub}: partition leases of {LeaseSeconds} s, messages hidden for {VisibilitySeconds} s",
            WorkerId, options.TaskHub, options.LeaseIntervalSeconds, options.WorkItemVisibilityTimeoutSeconds);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.WebHost.UseUrls(Address);
        builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 16 * 1024 * 1024);
        renewal = new ActivityLockRenewal(Service, visibility, loggerFactory.CreateLogger<ActivityLockRenewal>());
        builder.Services.AddSingleton<IOrchestrationService>(renewal);
        builder.Services.AddSingleton<IOrchestrationServiceClient>(Service);
        builder.Services.AddSingleton<TaskHubGrpcServer>();
        sidecar = builder.Build();
        sidecar.MapGrpcService<TaskHubGrpcServer>();
        await sidecar.StartAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (sidecar is not null)
        {
            await sidecar.StopAsync(cancellationToken);
        }

        // The sidecar stops the backend on its way down but does not wait for it; waited for here, the partition leases
        // are released before the process ends, and a worker started next takes over at once.
        if (renewal is null)
        {
            return;
        }

        try
        {
            await renewal.StopAsync().WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            loggerFactory.CreateLogger<DurableBackend>().LogWarning(
                "The host's shutdown timeout passed before the backend released its partition leases; the next worker waits for them to expire");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (sidecar is not null)
        {
            await sidecar.DisposeAsync();
            sidecar = null;
        }

        if (renewal is not null)
        {
            await renewal.DisposeAsync();
            renewal = null;
        }
    }

    static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
