using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Http;
using Orchflow.Functions.Http.Idempotency;
using Orchflow.Infrastructure.Network;
using Orchflow.Models;

namespace Orchflow.Functions.Functions;

/// <summary>Bring-your-own-key: register, list and delete model providers. Keys go to the secret store only.</summary>
public sealed class ProvidersFunctions(
    IProviderStore providers,
    ISecretStore secrets,
    AddressPolicy addresses,
    TimeProvider clock,
    ILogger<ProvidersFunctions> log)
{
    /// <summary>Providers one account may register at once.</summary>
    public const int MaxPerAccount = 20;

    [Function(nameof(CreateProvider))]
    [Idempotent]
    public async Task<IActionResult> CreateProvider(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = FunctionCatalog.Api + "/providers")] HttpRequest req,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var (body, problem) = await RequestBody.ReadAsync<CreateProviderRequest>(req, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var v = new Validation();
        var kind = v.Text("provider", body!.Provider, 40, required: true);
        if (kind is { Length: > 0 } && !ProviderKinds.IsKnown(kind))
        {
            v.Add("provider", $"'provider' must be one of: {string.Join(", ", ProviderKinds.All)}.");
        }

        var key = v.Text("api_key", body.ApiKey, 1000, required: true);
        var label = v.Text("label", body.Label, 100, required: false);
        var model = v.Text("model", body.Model, 200, required: true);
        var endpoint = v.Text("endpoint", body.Endpoint, 500, required: kind is not null && ProviderKinds.NeedsEndpoint(kind));
        if (endpoint is { Length: > 0 } && EndpointProblem(endpoint) is { } endpointProblem)
        {
            v.Add("endpoint", endpointProblem);
        }

        if (!v.IsValid)
        {
            return v.Problem();
        }

        var providerId = Ids.NewProviderId();
        var record = new ProviderRecord(
            caller.AccountId, providerId, kind!, string.IsNullOrEmpty(label) ? kind! : label, model!,
            string.IsNullOrEmpty(endpoint) ? null : endpoint, KeyHint(key!), SecretName(caller.AccountId, providerId), clock.GetUtcNow());

        // The secret first: a provider row must never point at a key that is not there; a row refused leaves no key behind.
        await secrets.SetAsync(record.SecretName, key!, cancellationToken);
        if (!await providers.TryCreateAsync(record, MaxPerAccount, CancellationToken.None))
        {
            await secrets.DeleteAsync(record.SecretName, CancellationToken.None);
            return Problems.LimitReached(
                $"This account has {MaxPerAccount} providers, the most it may have; delete one with DELETE /api/v1/providers/{{provider_id}} first.");
        }

        log.LogInformation("Provider {ProviderId} ({Provider}) registered for account {AccountId}", providerId, kind, caller.AccountId);
        // The body holds no key, but it answers a request that carried one: nothing on the way should keep it.
        return ApiResult.Created(ProviderView.Of(record), $"{FunctionCatalog.ApiBase}/providers/{providerId}").NoStore();
    }

    [Function(nameof(ListProviders))]
    public async Task<IActionResult> ListProviders(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionCatalog.Api + "/providers")] HttpRequest req,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var list = await providers.ListAsync(caller.AccountId, cancellationToken);
        return ApiResult.Ok(new ProviderListView(list.Select(ProviderView.Of).ToList()));
    }

    [Function(nameof(DeleteProvider))]
    public async Task<IActionResult> DeleteProvider(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = FunctionCatalog.Api + "/providers/{providerId}")] HttpRequest req,
        string providerId,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var provider = Ids.LooksLike("prv", providerId) ? await providers.GetAsync(caller.AccountId, providerId, cancellationToken) : null;
        if (provider is null)
        {
            return Problems.NotFound($"Provider '{providerId}' was not found.");
        }

        // The row first, as it was created last: a provider row must never point at a key that is not there.
        await providers.DeleteAsync(caller.AccountId, providerId, cancellationToken);
        await secrets.DeleteAsync(provider.SecretName, cancellationToken);
        log.LogInformation("Provider {ProviderId} deleted", providerId);
        return ApiResult.NoContent();
    }

    /// <summary>
    /// Why an endpoint cannot be called, if it cannot: https outside Development, no credentials, no address written
    /// out that the address policy refuses. A host name that resolves to a refused address is refused when a call connects.
    /// </summary>
    string? EndpointProblem(string endpoint) =>
        OutboundUrls.Problem("endpoint", endpoint, addresses, "a model server on this machine", "send the key in 'api_key' instead");

    /// <summary>The last four characters, enough for a person to tell keys apart and no more.</summary>
    static string KeyHint(string key) => "…" + (key.Length > 8 ? key[^4..] : "");

    /// <summary>Key Vault secret names allow letters, digits and dashes only.</summary>
    static string SecretName(string accountId, string providerId) =>
        $"provider-{accountId}-{providerId}".Replace('_', '-');
}
