using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Orchflow;
using Orchflow.Functions;
using Orchflow.Functions.Http;
using Orchflow.LocalHost;

// The standalone host: the Functions app's HTTP functions, orchestrator and activities on Kestrel, with the
// Durable Task worker and client on an in-process sidecar over Azure Storage (Azurite locally).
var builder = WebApplication.CreateBuilder(args);

// Same precedence as the Functions host: local.settings.json below environment variables and the command line.
builder.Configuration
    .AddLocalSettings(Directory.GetCurrentDirectory())
    .AddEnvironmentVariables()
    .AddCommandLine(args);

builder.Services.AddOrchflowApi(builder.Configuration, builder.Environment.IsDevelopment());
builder.Services.AddOrchflowOtlp(builder.Configuration);
builder.Services.AddValidatedOptions<DurableBackendOptions, DurableBackendOptionsValidation>(builder.Configuration.GetSection(DurableBackendOptions.Section));
builder.Services.AddSingleton<DurableBackend>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<DurableBackend>());
builder.Services.AddHostedService<WebhookQueuePoller>();
builder.Services.AddHostedService<ErasureSweeper>();
builder.Services.AddDurableTaskWorker(worker =>
{
    worker.UseGrpc(DurableBackend.SidecarAddress);
    worker.AddTasks(tasks => tasks.AddEngineTasks());
});
builder.Services.AddDurableTaskClient(client =>
{
    client.UseGrpc(DurableBackend.SidecarAddress);
    client.RegisterDirectly();
});

var app = builder.Build().ValidateSettings().WarnWhenExposed();

// Cross-origin pages listed in Orchflow:Cors:AllowedOrigins, as the Functions host serves them (BrowserClientsMiddleware).
var browsers = app.Services.GetRequiredService<BrowserClients>();
app.Use((http, next) => browsers.Handle(http) ? Task.CompletedTask : next(http));

app.MapOrchflowFunctions();
app.Run();

/// <summary>The standalone host's entry point; public so tests can find its assembly.</summary>
public partial class Program;
