using OpenTelemetry;
using OpenTelemetry.Resources;
using Orchflow.Functions.Telemetry;

namespace Orchflow.LocalHost;

/// <summary>
/// The standalone host's telemetry: on when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, exported over OTLP to that
/// collector (the exporter reads the standard <c>OTEL_*</c> settings: protocol, headers, intervals); off otherwise.
/// </summary>
public static class LocalTelemetry
{
    public const string EndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static IServiceCollection AddOrchflowOtlp(this IServiceCollection services, IConfiguration configuration)
    {
        if (string.IsNullOrWhiteSpace(configuration[EndpointSetting]))
        {
            return services;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                serviceName: configuration["OTEL_SERVICE_NAME"] ?? "orchflow",
                serviceVersion: typeof(LocalTelemetry).Assembly.GetName().Version?.ToString(),
                // Several hosts may share a task hub: each is its own instance, named as in the partition table.
                serviceInstanceId: DurableBackend.WorkerId))
            .AddOrchflowSignals()
            .UseOtlpExporter();
        return services;
    }
}
