using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;

namespace Orchflow.Models;

/// <summary>
/// Chooses a run's model inside the activity that needs it: the account's own provider, its key fetched from the
/// secret store by the provider's id, or the managed model behind the trial runs (the simulated one when none is
/// configured). Keys never leave this process: not into orchestration inputs, history or the projection.
/// </summary>
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
                       ?? throw new ModelProviderException($"Provider {providerId} was deleted; register it again and start a new run.");
        var key = await secrets.GetAsync(provider.SecretName, cancellationToken)
                  ?? throw new ModelProviderException($"The key of provider {providerId} is missing; register the provider again and start a new run.");
        return Create(ModelTarget.Create(provider.Provider, provider.Model, provider.Endpoint, key, providerId), http.UserProviders);
    }

    ChatRunModel Create(ModelTarget target, HttpClient client)
    {
        IChatClient chat = ChatRunModel.CreateChatClient(target, client, options.Value.RequestTimeout);
        return new ChatRunModel(chat, target, policy);
    }
}
