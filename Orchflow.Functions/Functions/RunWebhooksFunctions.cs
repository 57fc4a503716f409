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
using Orchflow.Webhooks;

namespace Orchflow.Functions.Functions;

/// <summary>
/// Webhook endpoints of an account: register (the signing secret is shown once), list, delete, rotate the secret,
/// and see what was delivered. Secrets go to the secret store only; the webhook row names them.
/// </summary>
/// <remarks>
/// Named for what webhooks carry, run events: the Functions SDK lists functions by class name, and the catch-all
/// (<see cref="UnmatchedFunctions"/>) must come after every other HTTP function.
/// </remarks>
public sealed class RunWebhooksFunctions(
    IWebhookStore webhooks,
    ISecretStore secrets,
    IIdempotencyStore idempotency,
    WebhookDirectory directory,
    IOptions<WebhookOptions> options,
    AddressPolicy addresses,
    TimeProvider clock,
    ILogger<RunWebhooksFunctions> log)
{
    public const int MaxDescriptionLength = 500;
    public const int DefaultDeliveries = 20;
    public const int MaxDeliveries = 100;

    /// <summary>What a webhook is sent when its request names no events: the moments a backend acts on.</summary>
    public static readonly IReadOnlyList<string> DefaultEvents =
        [EventTypes.RunWaitingHuman, EventTypes.RunCompleted, EventTypes.RunFailed, EventTypes.RunCancelled];

    [Function(nameof(CreateWebhook))]
    [Idempotent]
    public async Task<IActionResult> CreateWebhook(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = FunctionCatalog.Api + "/webhooks")] HttpRequest req,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var (body, problem) = await RequestBody.ReadAsync<CreateWebhookRequest>(req, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var v = new Validation();
        var url = v.Text("url", body!.Url, WebhookTargets.MaxUrlLength, required: true);
        if (url is { Length: > 0 } && body.Url!.Length <= WebhookTargets.MaxUrlLength &&
            WebhookTargets.Problem(url, addresses) is { } urlProblem)
        {
            v.Add("url", urlProblem);
        }

        var events = Events(body.Events, v);
        var description = v.Text("description", body.Description, MaxDescriptionLength, required: false);
        if (!v.IsValid)
        {
            return v.Problem();
        }

        var webhookId = Ids.NewWebhookId();
        var secret = WebhookSignature.NewSecret();
        var record = new WebhookRecord(caller.AccountId, webhookId, url!, events, description, 1, SecretName(caller.AccountId, webhookId, 1),
            null, null, null, clock.GetUtcNow());

        // The secret first: a webhook row must never name a secret that is not there; a row refused leaves no secret behind.
        await secrets.SetAsync(record.SecretName, secret, cancellationToken);
        if (!await webhooks.TryCreateAsync(record, options.Value.MaxPerAccount, CancellationToken.None))
        {
            await secrets.DeleteAsync(record.SecretName, CancellationToken.None);
            return Problems.LimitReached(
                $"This account has {options.Value.MaxPerAccount} webhooks, the most it may have; delete one with DELETE /api/v1/webhooks/{{webhook_id}} first.");
        }

        directory.Forget(caller.AccountId);
        log.LogInformation("Webhook {WebhookId} registered for account {AccountId} ({EventCount} event types)", webhookId, caller.AccountId, events.Count);
        return ApiResult.Created(
            new WebhookCreatedView(webhookId, record.Url, record.Events, record.Description, secret, record.Enabled, record.CreatedAt),
            $"{FunctionCatalog.ApiBase}/webhooks/{webhookId}").NoStore();
    }

    [Function(nameof(ListWebhooks))]
    public async Task<IActionResult> ListWebhooks(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionCatalog.Api + "/webhooks")] HttpRequest req,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var list = await webhooks.ListAsync(caller.AccountId, cancellationToken);
        return ApiResult.Ok(new WebhookListView(list.Select(WebhookView.Of).ToList()));
    }

    [Function(nameof(DeleteWebhook))]
    public async Task<IActionResult> DeleteWebhook(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = FunctionCatalog.Api + "/webhooks/{webhookId}")] HttpRequest req,
        string webhookId,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var webhook = await FindAsync(caller.AccountId, webhookId, cancellationToken);
        if (webhook is null)
        {
            return NotFound(webhookId);
        }

        // The row first: once it is gone nothing signs with its secrets, which can then go too.
        await webhooks.DeleteAsync(caller.AccountId, webhookId, cancellationToken);
        directory.Forget(caller.AccountId);
        foreach (var name in new[] { webhook.SecretName, webhook.PreviousSecretName }.OfType<string>())
        {
            await secrets.DeleteAsync(name, cancellationToken);
        }

        // The creation's kept answer shows the secret: a replay must not bring it back.
        await idempotency.ForgetAsync(caller.AccountId, webhookId, cancellationToken);
        log.LogInformation("Webhook {WebhookId} deleted", webhookId);
        return ApiResult.NoContent();
    }

    [Function(nameof(RotateWebhookSecret))]
    public async Task<IActionResult> RotateWebhookSecret(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = FunctionCatalog.Api + "/webhooks/{webhookId}/rotate-secret")] HttpRequest req,
        string webhookId,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var webhook = await FindAsync(caller.AccountId, webhookId, cancellationToken);
            if (webhook is null)
            {
                return NotFound(webhookId);
            }

            var now = clock.GetUtcNow();
            var version = webhook.SecretVersion + 1;
            var secret = WebhookSignature.NewSecret();
            var rotated = webhook with
            {
                SecretVersion = version,
                SecretName = SecretName(caller.AccountId, webhookId, version),
                PreviousSecretName = webhook.SecretName,
                PreviousSecretUntil = now.AddHours(options.Value.SecretOverlapHours),
            };
            await secrets.SetAsync(rotated.SecretName, secret, cancellationToken);
            if (!await webhooks.TryReplaceAsync(rotated, cancellationToken))
            {
                // Rotated or deleted at the same moment: this secret was never named; look again.
                await secrets.DeleteAsync(rotated.SecretName, cancellationToken);
                continue;
            }

            // The secret before the previous one signs no more: only two sign at once.
            if (webhook.PreviousSecretName is { } retired)
            {
                await secrets.DeleteAsync(retired, cancellationToken);
            }

            directory.Forget(caller.AccountId);
            // The creation's kept answer shows a secret now retired: a replay must not bring it back.
            await idempotency.ForgetAsync(caller.AccountId, webhookId, cancellationToken);
            log.LogInformation("Webhook {WebhookId} secret rotated to version {Version}", webhookId, version);
            return ApiResult.Ok(new WebhookSecretView(webhookId, secret, rotated.PreviousSecretUntil!.Value)).NoStore();
        }

        return Problems.Conflict($"Webhook '{webhookId}' kept changing while its secret was rotated; try again.");
    }

    [Function(nameof(ListWebhookDeliveries))]
    public async Task<IActionResult> ListWebhookDeliveries(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = FunctionCatalog.Api + "/webhooks/{webhookId}/deliveries")] HttpRequest req,
        string webhookId,
        CancellationToken cancellationToken)
    {
        var caller = ApiKeyAuthenticator.CallerOf(req);
        var validation = new Validation();
        var limit = (int)Query.Long(req, "limit", DefaultDeliveries, 1, MaxDeliveries, validation);
        if (!validation.IsValid)
        {
            return validation.Problem();
        }

        if (await FindAsync(caller.AccountId, webhookId, cancellationToken) is null)
        {
            return NotFound(webhookId);
        }

        var deliveries = await webhooks.ListDeliveriesAsync(webhookId, limit, cancellationToken);
        return ApiResult.Ok(new DeliveryListView(deliveries.Select(DeliveryView.Of).ToList()));
    }

    /// <summary>The event types asked for: known, each once, at least one; none given means <see cref="DefaultEvents"/>.</summary>
    static IReadOnlyList<string> Events(IReadOnlyList<string?>? requested, Validation v)
    {
        if (requested is null)
        {
            return DefaultEvents;
        }

        if (requested.Count == 0)
        {
            v.Add("events", "'events' must name at least one event type; leave it out for the default ones.");
        }

        var events = new List<string>();
        for (var i = 0; i < requested.Count; i++)
        {
            var field = $"events[{i}]";
            var type = v.Text(field, requested[i], 64, required: true);
            if (type is not { Length: > 0 } || requested[i]!.Length > 64)
            {
                continue;
            }

            if (!EventTypes.All.Contains(type))
            {
                v.Add(field, $"'{field}' must be an event type of the run log: {string.Join(", ", EventTypes.All)}.");
            }
            else if (events.Contains(type))
            {
                v.Add(field, $"'{field}' names {type} again; name each event type once.");
            }
            else
            {
                events.Add(type);
            }
        }

        return events;
    }

    async Task<WebhookRecord?> FindAsync(string accountId, string webhookId, CancellationToken cancellationToken) =>
        Ids.LooksLike("whk", webhookId) ? await webhooks.GetAsync(accountId, webhookId, cancellationToken) : null;

    static ApiResult NotFound(string webhookId) => Problems.NotFound($"Webhook '{webhookId}' was not found.");

    /// <summary>One name per secret version; Key Vault secret names allow letters, digits and dashes only.</summary>
    static string SecretName(string accountId, string webhookId, int version) =>
        $"webhook-{accountId}-{webhookId}-v{version}".Replace('_', '-');
}
