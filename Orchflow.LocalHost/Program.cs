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

// Cross-origin pages listed in Orchflow:Cors:AllowedOrigins: ASP.NET Core's CORS answers their preflights and adds
// the headers. Any other origin is served as if CORS were off (no CORS headers; OPTIONS is a 405 like any
// unserved method), which is also what an empty list means.
var browsers = builder.Configuration.GetSection(BrowserClientOptions.Section).Get<BrowserClientOptions>() ?? new BrowserClientOptions();
builder.Services.AddCors(cors => cors.AddPolicy(BrowserClients.Policy, policy => policy
    .WithOrigins([.. browsers.AllowedOrigins])
    .WithHeaders(BrowserClients.AllowedHeaders)
    .WithMethods(BrowserClients.Methods)
    .WithExposedHeaders(BrowserClients.ExposedHeaders)
    .SetPreflightMaxAge(BrowserClients.PreflightMaxAge)));

var app = builder.Build().ValidateSettings();
if (browsers.AllowedOrigins.Count > 0)
{
    app.UseWhen(http => browsers.Allows(http.Request.Headers.Origin), branch => branch.UseCors(BrowserClients.Policy));
}

app.MapOrchflowFunctions();
app.Run();

/// <summary>The standalone host's entry point; public so tests can find its assembly.</summary>
public partial class Program;
