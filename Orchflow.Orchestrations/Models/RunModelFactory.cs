using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;

namespace Orchflow.Models;

/// <summary>
/// Chooses a run's model inside the activity that needs it: the account's own provider, its key fetched from the
/// secret store by the provider's id, or the managed model behind the trial runs (the simulated one when none is
/// configured). Keys never leave this process: not into orchestration inputs, history or the projection.
/// </summary>
/// <remarks>
/// A provider's secret never changes (registering a key again makes a new provider with a new secret), so keys are
/// kept in memory for a while rather than read from Key Vault for every model call. The provider itself is looked up
/// every time, so a deleted provider stops being used at once.
/// </remarks>
public sealed class RunModelFactory(
    IProviderStore providers,
    ISecretStore secrets,
    SimulatedRunModel simulated,
    ModelHttp http,
    ModelCallPolicy policy,
    IOptions<ModelOptions> options,
    IOptions<ManagedModelOptions> managed) : IRunModelFactory, IDisposable
{
    static readonly TimeSpan KeepKeysFor = TimeSpan.FromMinutes(10);

    readonly MemoryCache keys = new(new MemoryCacheOptions { SizeLimit = 10_000 });
    public async Task<IRunModel> ForRunAsync(string accountId, string? providerId, CancellationToken cancellationToken)
    {
        if (providerId is null)
        {
            var m = managed.Value;
            return m.IsConfigured
                ? Create(ModelTarget.Create(m.Provider!, m.Model!, m.Endpoint, m.ApiKey!, "managed"), http.Managed)
                : simulated;
        }

        var provider = await providers.GetAsync(accountId, providerId, cancellationToken)
                       ?? throw new ModelProviderException($"Provider {providerId} was deleted; register it again and start a new run.");
        var key = await KeyAsync(provider, cancellationToken);
        return Create(ModelTarget.Create(provider.Provider, provider.Model, provider.Endpoint, key, providerId), http.UserProviders);
    }

    public void Dispose() => keys.Dispose();

    async Task<string> KeyAsync(ProviderRecord provider, CancellationToken cancellationToken)
    {
        if (keys.TryGetValue(provider.SecretName, out string? key) && key is not null)
        {
            return key;
        }

        key = await secrets.GetAsync(provider.SecretName, cancellationToken)
              ?? throw new ModelProviderException(
                  $"The key of provider {provider.ProviderId} is missing; register the provider again and start a new run.");
        keys.Set(provider.SecretName, key, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = KeepKeysFor });
        return key;
    }

    ChatRunModel Create(ModelTarget target, HttpClient client) =>
        new(ChatRunModel.CreateChatClient(target, client, options.Value.RequestTimeout), target, policy);
}
