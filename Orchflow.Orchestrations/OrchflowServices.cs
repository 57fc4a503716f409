using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orchflow.Abstractions;
using Orchflow.Accounts;
using Orchflow.Infrastructure;
using Orchflow.Infrastructure.Secrets;
using Orchflow.Infrastructure.Storage;
using Orchflow.Models;
using Orchflow.Orchestrators;
using Orchflow.Planning;
using Orchflow.Webhooks;
using Orchflow.Telemetry;

namespace Orchflow;

/// <summary>Wires the engine and its adapters; both hosts (Functions and the standalone host) call this once.</summary>
public static class OrchflowServices
{
    public static IServiceCollection AddOrchflow(this IServiceCollection services, IConfiguration configuration, bool isDevelopment)
    {
        services.AddOptions<StorageOptions>()
            .Bind(configuration.GetSection(StorageOptions.Section))
            .Validate(o => o.ReadFreshnessMs is >= 0 and <= 10_000, $"{StorageOptions.Section}:ReadFreshnessMs must be from 0 to 10000.")
            .ValidateOnStart();
        services.AddOptions<SecurityOptions>()
            .Bind(configuration.GetSection(SecurityOptions.Section))
            .PostConfigure(o => o.AllowDevelopmentKeys |= isDevelopment)
            .Validate(Valid<SecurityOptions>(o => o.Validate()))
            .ValidateOnStart();
        services.AddOptions<SimulatedModelOptions>().Bind(configuration.GetSection(SimulatedModelOptions.Section));
        services.AddOptions<EngineOptions>().Bind(configuration.GetSection(EngineOptions.Section));
        services.AddOptions<AccountOptions>().Bind(configuration.GetSection(AccountOptions.Section));
        services.AddOptions<ModelOptions>()
            .Bind(configuration.GetSection(ModelOptions.Section))
            .PostConfigure(o => o.AllowPrivateEndpoints ??= isDevelopment)
            .Validate(Valid<ModelOptions>(o => o.Validate()))
            .ValidateOnStart();
        services.AddOptions<ManagedModelOptions>()
            .Bind(configuration.GetSection(ManagedModelOptions.Section))
            .Validate(Valid<ManagedModelOptions>(o => o.Validate()))
            .ValidateOnStart();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<OrchflowTables>();
        services.AddSingleton<KnownRuns>();
        services.AddSingleton<IRunLogObserver, RunMetrics>();
        services.AddSingleton<IRunStore, TableRunStore>();
        services.AddSingleton<IRunEventStore, TableRunEventStore>();
        services.AddSingleton<IAccountStore, TableAccountStore>();
        services.AddSingleton<IProviderStore, TableProviderStore>();
        services.AddSingleton<IRateLimitStore, TableRateLimitStore>();
        services.AddSingleton<IIdempotencyStore, TableIdempotencyStore>();
        services.AddSecretStore(configuration);
        services.AddSingleton<ApiKeys>();
        services.AddSingleton<SimulatedRunModel>();
        services.AddSingleton<ModelHttp>();
        services.AddSingleton<ModelCallPolicy>();
        services.AddSingleton<IRunModelFactory, RunModelFactory>();
        services.AddSingleton<Planner>();
        services.AddWebhooks(configuration, isDevelopment);

        services.AddSingleton<RunScheduler>();
        services.AddEngineActivities();
        return services;
    }

    /// <summary>Options validation that fails with the options' own message, which names the setting to fix.</summary>
    static Func<T, bool> Valid<T>(Action<T> validate) => o =>
    {
        validate(o);
        return true;
    };
}
