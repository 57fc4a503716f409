using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;
using Orchflow.Accounts;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Http;

namespace Orchflow.Functions.Functions;

/// <summary>An account's API keys: issue another (shown once), list them, revoke one (never the last).</summary>
public sealed class KeysFunctions(IApiKeyStore keyStore, ApiKeys keys, ApiKeyAuthenticator authenticator, TimeProvider clock, ILogger<KeysFunctions> log)
{
    public const int MaxLabelLength = 100;
    public const int MaxPerAccount = 20;

    [Function(nameof(CreateKey))]
    public async Task<IActionResult> CreateKey(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = FunctionCatalog.Api + "/auth/keys")] HttpRequest req,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var (body, problem) = await RequestBody.ReadAsync<CreateKeyRequest>(req, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var v = new Validation();
        var label = v.Text("label", body!.Label, MaxLabelLength, required: true);
        if (!v.IsValid)
        {
            return v.Problem();
        }

        var key = ApiKeys.NewKey();
        var record = new ApiKeyRecord(caller.AccountId, Ids.NewKeyId(), label!, ApiKeys.Hint(key), clock.GetUtcNow());
        if (!await keyStore.TryCreateAsync(record, keys.Hash(key), MaxPerAccount, cancellationToken))
        {
            return Problems.Conflict($"An account has at most {MaxPerAccount} API keys; revoke one first.");
        }

        log.LogInformation("Key {KeyId} issued for account {AccountId}", record.KeyId, caller.AccountId);
        return ApiResult.Created(new CreatedKeyView(record.KeyId, key, record.Label, record.CreatedAt), KeysLocation).NoStore();
    }

    const string KeysLocation = FunctionCatalog.ApiBase + "/auth/keys";

    [Function(nameof(ListKeys))]
    public async Task<IActionResult> ListKeys(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionCatalog.Api + "/auth/keys")] HttpRequest req,
        CancellationToken cancellationToken)
    {
        var listed = await keyStore.ListAsync(ApiKeyAuthenticator.CallerOf(req).AccountId, cancellationToken);
        return ApiResult.Ok(new KeyListView(listed.Select(KeyView.Of).ToList()));
    }

    [Function(nameof(RevokeKey))]
    public async Task<IActionResult> RevokeKey(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = FunctionCatalog.Api + "/auth/keys/{keyId}")] HttpRequest req,
        string keyId,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var revocation = Ids.LooksLike("key", keyId)
            ? await keyStore.RevokeAsync(caller.AccountId, keyId, cancellationToken)
            : new KeyRevocation(RevocationOutcome.NotFound);
        switch (revocation.Outcome)
        {
            case RevocationOutcome.NotFound:
                return Problems.NotFound($"Key '{keyId}' was not found.");
            case RevocationOutcome.LastKey:
                return Problems.Conflict("This is the account's last API key; issue another before revoking it.");
        }

        // Refused here at once; other instances forget it within ApiKeyAuthenticator.RememberFor.
        authenticator.Forget(revocation.KeyHash!);
        log.LogInformation("Key {KeyId} of account {AccountId} revoked", keyId, caller.AccountId);
        return ApiResult.NoContent();
    }
}
