using Microsoft.Extensions.Options;
using Orchflow.Abstractions;

namespace Orchflow.Models;

/// <summary>
/// Chooses a run's model inside the activity that needs it: the account's own provider, its key fetched from the
/// secret store by the provider's id, or the managed model behind the trial runs (the simulated one when none is
/// configured). Keys never leave this process: not into orchestration inputs, history or the projection.
/// </summary>
/// <remarks>
/// The provider itself is looked up every time, so a deleted provider stops being used at once; its key comes through
/// the secret store's cache, so model calls do not ask Key Vault each time.
/// </remarks>
public sealed class RunModelFactory(
    IProviderStore providers,
    ISecretStore secrets,
    SimulatedRunModel simulated,
    ModelHttp http,
    ModelCallPolicy policy,
    IOptions<ModelOptions> options,
    IOptions<ManagedModelOptions> managed) : IRunModelFactory
{
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
                       ?? throw new ModelProviderException($"Provider {providerId} was deleted; register it again and start a new run with the new provider_id (a retry of this run would look for the deleted one).");
        var key = await KeyAsync(provider, cancellationToken);
        return Create(ModelTarget.Create(provider.Provider, provider.Model, provider.Endpoint, key, providerId), http.UserProviders);
    }

    async Task<string> KeyAsync(ProviderRecord provider, CancellationToken cancellationToken) =>
        await secrets.GetAsync(provider.SecretName, cancellationToken)
        ?? throw new ModelProviderException($"The key of provider {provider.ProviderId} is missing; register the provider again and start a new run with the new provider_id (a retry of this run would look for the missing key).");

    ChatRunModel Create(ModelTarget target, HttpClient client) =>
        new(ChatRunModel.CreateChatClient(target, client, options.Value.RequestTimeout), target, policy, options.Value.MaxOutputTokens);
}
