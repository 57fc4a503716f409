using System.Diagnostics;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Orchflow.Telemetry;

namespace Orchflow.Functions.Telemetry;

/// <summary>
/// What both hosts export: Orchflow's own spans and metrics, the Durable Task SDK's spans, and ASP.NET Core and
/// HttpClient instrumentation, minus the background chatter (queue polling, the durable backend's gRPC) that belongs to
/// no request or run. The exporter is each host's own choice: Azure Monitor here, OTLP in the standalone host.
/// </summary>
public static class OrchflowOpenTelemetry
{
    /// <summary>The Durable Task SDK's activity source: orchestration, activity and create_orchestration spans.</summary>
    public const string DurableTaskSource = "Microsoft.DurableTask";

    /// <summary>The connection string that turns the Azure Monitor exporter on (set by the Bicep template).</summary>
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>Says how the exporter authenticates; <c>Authorization=AAD</c> means with the app's managed identity.</summary>
    public const string AuthenticationSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    public static T AddOrchflowSignals<T>(this T otel)
        where T : IOpenTelemetryBuilder
    {
        otel
        .WithTracing(tracing => tracing
            .AddSource(OrchflowTelemetry.Name, DurableTaskSource)
            .AddAspNetCoreInstrumentation(o => o.Filter = http => !IsGrpc(http.Request.ContentType))
            .AddHttpClientInstrumentation(o =>
            {
                o.FilterHttpRequestMessage = _ => InSpan();
                o.RecordException = false;
                // Outbound calls go to addresses tenants chose: a webhook's or tool server's path is often its
                // credential (https://hooks.example/T0/B0/secret). Spans keep where a call went, not the path.
                o.EnrichWithHttpRequestMessage = (activity, request) =>
                {
                    if (request.RequestUri is { IsAbsoluteUri: true } uri)
                    {
                        activity.SetTag("url.full", $"{uri.Scheme}://{uri.Authority}/");
                    }
                };
            }))
        .WithMetrics(metrics => metrics
            .AddMeter(OrchflowTelemetry.Name)
            .AddAspNetCoreInstrumentation()
            .AddHttpClientInstrumentation())
        .WithLogging();
        return otel;
    }

    /// <summary>
    /// Turns telemetry to Application Insights on when the app has a connection string; with Entra authentication the
    /// exporter signs in as the app's managed identity. Without a connection string nothing is collected or sent.
    /// </summary>
    public static IServiceCollection AddOrchflowAzureMonitor(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration[ConnectionStringSetting];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return services;
        }

        var authentication = Settings(configuration[AuthenticationSetting]);
        services.AddOpenTelemetry()
            .UseFunctionsWorkerDefaults()
            .AddOrchflowSignals()
            .UseAzureMonitorExporter(o =>
            {
                o.ConnectionString = connectionString;
                if (authentication.TryGetValue("Authorization", out var kind) && kind.Equals("AAD", StringComparison.OrdinalIgnoreCase))
                {
                    o.Credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions
                    {
                        ManagedIdentityClientId = authentication.GetValueOrDefault("ClientId") ?? configuration["AZURE_CLIENT_ID"],
                    });
                }
            });
        return services;
    }

    /// <summary>
    /// Whether an outgoing request belongs to a span (a request being served, an activity, a model call). One that does
    /// not is a background poll: the durable backend's queues, a stream's reader. It may be asked with the request's own
    /// span already current, so that one is looked past.
    /// </summary>
    static bool InSpan()
    {
        var current = Activity.Current;
        if (current?.OperationName == "System.Net.Http.HttpRequestOut")
        {
            current = current.Parent;
        }

        return current is not null;
    }

    static bool IsGrpc(string? contentType) => contentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>Reads <c>Key=value;Key=value</c>, as Application Insights settings are written.</summary>
    static Dictionary<string, string> Settings(string? text) =>
        (text ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(pair => pair.Length == 2)
            .GroupBy(pair => pair[0], StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.OrdinalIgnoreCase);
}
