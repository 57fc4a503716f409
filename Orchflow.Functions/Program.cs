using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using Orchflow;
using Orchflow.Functions;
using Orchflow.Functions.Http;
using Orchflow.Functions.Telemetry;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<BrowserClientsMiddleware>();
builder.UseMiddleware<ApiMiddleware>();
builder.Services.AddOrchflowApi(builder.Configuration, builder.Environment.IsDevelopment());
builder.Services.AddOrchflowAzureMonitor(builder.Configuration);
builder.Build().ValidateSettings().Run();
