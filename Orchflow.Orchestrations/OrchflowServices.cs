using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orchflow.Abstractions;
using Orchflow.Accounts;
using Microsoft.Extensions.Options;
using Orchflow.Erasure;
using Orchflow.Infrastructure;
using Orchflow.Infrastructure.Network;
using Orchflow.Infrastructure.Secrets;
using Orchflow.Infrastructure.Storage;
using Orchflow.Live;
using Orchflow.Models;
using Orchflow.Orchestrators;
using Orchflow.Planning;
using Orchflow.Tools;
using Orchflow.Webhooks;
using Orchflow.Telemetry;

namespace Orchflow;

/// <summary>Wires the engine and its adapters; both hosts (Functions and the standalone host) call this once.</summary>
public static class OrchflowServices
{
    public static IServiceCollection AddOrchflow(this IServiceCollection services, IConfiguration configuration, bool isDevelopment)
    {
        services.AddValidatedOptions<StorageOptions, StorageOptionsValidation>(configuration.GetSection(StorageOptions.Section));
        services.AddValidatedOptions<SecurityOptions, SecurityOptionsValidation>(configuration.GetSection(SecurityOptions.Section))
            .PostConfigure(o => o.AllowDevelopmentKeys |= isDevelopment);
        services.AddValidatedOptions<SimulatedModelOptions, SimulatedModelOptionsValidation>(configuration.GetSection(SimulatedModelOptions.Section));
        services.AddValidatedOptions<EngineOptions, EngineOptionsValidation>(configuration.GetSection(EngineOptions.Section));
        services.AddValidatedOptions<AccountOptions, AccountOptionsValidation>(configuration.GetSection(AccountOptions.Section));
        services.AddValidatedOptions<TrialOptions, TrialOptionsValidation>(configuration.GetSection(TrialOptions.Section));
        services.AddValidatedOptions<AccountLimitOptions, AccountLimitOptionsValidation>(configuration.GetSection(AccountLimitOptions.Section));
        services.AddValidatedOptions<ModelOptions, ModelOptionsValidation>(configuration.GetSection(ModelOptions.Section));
        services.AddValidatedOptions<NetworkOptions, NetworkOptionsValidation>(configuration.GetSection(NetworkOptions.Section));
        services.AddSingleton(sp => new AddressPolicy(sp.GetRequiredService<IOptions<NetworkOptions>>().Value.Ranges(), isDevelopment));
        services.AddValidatedOptions<ManagedModelOptions, ManagedModelOptionsValidation>(configuration.GetSection(ManagedModelOptions.Section));

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<OrchflowTables>();
        services.AddSingleton<KnownRuns>();
        services.AddSingleton<IRunLogObserver, RunMetrics>();
        services.AddSingleton<IRunStore, TableRunStore>();
        services.AddSingleton<IActiveRuns, TableActiveRuns>();
        services.AddSingleton<IRunEventStore, TableRunEventStore>();
        services.AddSingleton<IAccountStore, TableAccountStore>();
        services.AddSingleton<IApiKeyStore, TableApiKeyStore>();
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
        services.AddWebhooks(configuration);
        services.AddTools(configuration);

        services.AddValidatedOptions<LiveOutputOptions, LiveOutputOptionsValidation>(configuration.GetSection(LiveOutputOptions.Section));
        services.AddSingleton<ILiveOutputStore, TableLiveOutputStore>();
        services.AddSingleton<LiveOutputs>();
        services.AddSingleton<RunScheduler>();
        services.AddValidatedOptions<RetentionOptions, RetentionOptionsValidation>(configuration.GetSection(RetentionOptions.Section));
        services.AddSingleton<IErasureStore, TableErasureStore>();
        services.AddSingleton<ErasureSignal>();
        services.AddSingleton<DataEraser>();
        services.AddEngineActivities();
        return services;
    }
}
