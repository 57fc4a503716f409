using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orchflow.Functions.Health;
using Orchflow.Functions.Http;
using Orchflow.Abstractions;
using Orchflow.Functions.Http.Idempotency;
using Orchflow.Functions.Http.RateLimiting;
using Orchflow.Functions.Mcp;
using Orchflow.Functions.Runs;
using Orchflow.Functions.Streaming;

namespace Orchflow.Functions;

/// <summary>Wires the HTTP API and the engine; the Functions host and the standalone host both call this.</summary>
public static class OrchflowApiServices
{
    public static IServiceCollection AddOrchflowApi(this IServiceCollection services, IConfiguration configuration, bool isDevelopment)
    {
        services.AddOrchflow(configuration, isDevelopment);
        services.AddValidatedOptions<RateLimitOptions, RateLimitOptionsValidation>(configuration.GetSection(RateLimitOptions.Section));
        services.AddSingleton<ClientAddresses>();
        services.AddSingleton<FailedAuthentications>();
        services.AddSingleton<ApiRateLimits>();
        services.AddValidatedOptions<StreamOptions, StreamOptionsValidation>(configuration.GetSection(StreamOptions.Section));
        services.AddSingleton<RunEventHub>();
        services.AddSingleton<StreamQuota>();
        services.AddSingleton<IRunLogObserver>(sp => sp.GetRequiredService<RunEventHub>());
        services.AddSingleton<IdempotencyKeys>();
        services.AddValidatedOptions<BrowserClientOptions, BrowserClientOptionsValidation>(configuration.GetSection(BrowserClientOptions.Section));
        services.AddCors();
        services.AddSingleton<BrowserClients>();
        services.AddSingleton<ApiKeyAuthenticator>();
        services.AddSingleton<ApiPipeline>();
        services.AddSingleton<HealthProbe>();
        services.AddSingleton<RunStarts>();
        services.AddSingleton<RunCancels>();
        services.AddSingleton<RunReads>();
        services.AddOrchflowMcp(configuration, isDevelopment);
        services.AddSingleton<TaskAnswers>();
        return services;
    }
}
