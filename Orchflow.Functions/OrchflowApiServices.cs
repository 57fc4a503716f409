using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orchflow.Functions.Health;
using Orchflow.Functions.Http;
using Orchflow.Abstractions;
using Orchflow.Functions.Http.Idempotency;
using Orchflow.Functions.Http.RateLimiting;
using Orchflow.Functions.Streaming;

namespace Orchflow.Functions;

/// <summary>Wires the HTTP API and the engine; the Functions host and the standalone host both call this.</summary>
public static class OrchflowApiServices
{
    public static IServiceCollection AddOrchflowApi(this IServiceCollection services, IConfiguration configuration, bool isDevelopment)
    {
        services.AddOrchflow(configuration, isDevelopment);
        services.AddOptions<RateLimitOptions>()
            .Bind(configuration.GetSection(RateLimitOptions.Section))
            .Validate(o =>
            {
                o.Validate();
                return true;
            })
            .ValidateOnStart();
        services.AddSingleton<ApiRateLimits>();
        services.AddOptions<StreamOptions>()
            .Bind(configuration.GetSection(StreamOptions.Section))
            .Validate(o =>
            {
                o.Validate();
                return true;
            })
            .ValidateOnStart();
        services.AddSingleton<RunEventHub>();
        services.AddSingleton<IRunLogObserver>(sp => sp.GetRequiredService<RunEventHub>());
        services.AddSingleton<IdempotencyKeys>();
        services.AddOptions<BrowserClientOptions>()
            .Bind(configuration.GetSection(BrowserClientOptions.Section))
            .Validate(o =>
            {
                o.Validate();
                return true;
            })
            .ValidateOnStart();
        services.AddSingleton<ApiKeyAuthenticator>();
        services.AddSingleton<ApiPipeline>();
        services.AddSingleton<HealthProbe>();
        return services;
    }
}
