using Orchflow.Abstractions;

namespace Orchflow.Models;

/// <summary>
/// Chooses a run's model. The managed model is the built-in simulated one; a run on a registered provider
/// checks that the provider still exists.
/// </summary>
public sealed class RunModelFactory(IProviderStore providers, SimulatedRunModel simulated) : IRunModelFactory
{
    public async Task<IRunModel> ForRunAsync(string accountId, string? providerId, CancellationToken cancellationToken)
    {
        if (providerId is null)
        {
            return simulated;
        }

        _ = await providers.GetAsync(accountId, providerId, cancellationToken)
            ?? throw new InvalidOperationException($"Provider {providerId} was deleted; register it again and start a new run.");
        return simulated;
    }
}
