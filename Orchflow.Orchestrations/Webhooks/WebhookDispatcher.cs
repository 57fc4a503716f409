using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Telemetry;

namespace Orchflow.Webhooks;

/// <summary>
/// Handles the webhook queue's messages, whichever host takes them. A dispatch reads the events a commit logged,
/// records one delivery per event and webhook that wants it (keyed by both, so a dispatch seen twice records
/// nothing twice) and makes each first attempt at once. A failed attempt puts its retry on the queue, hidden for
/// the backoff, before it is recorded; a message that was not handled to the end shows again and is handled again,
/// so every delivery is attempted until it succeeds, fails for good or its webhook goes.
/// </summary>
public sealed class WebhookDispatcher(
    IWebhookStore store,
    IRunEventStore events,
    ISecretStore secrets,
    WebhookSender sender,
    IWebhookQueue queue,
    WebhookDirectory directory,
    IOptions<WebhookOptions> options,
    TimeProvider clock,
    ILogger<WebhookDispatcher> log)
{
    readonly WebhookOptions settings = options.Value;

    /// <summary>Handles one message; throws only when it should be handled again later (storage failed meanwhile).</summary>
    public Task HandleAsync(string text, CancellationToken cancellationToken) => WebhookMessage.Parse(text) switch
    {
        DispatchMessage dispatch => DispatchAsync(dispatch, cancellationToken),
        DeliverMessage deliver => DeliverAsync(deliver, cancellationToken),
        _ => Dropped(text),
    };

    Task Dropped(string text)
    {
        log.LogWarning("A webhook queue message that is not one ({Length} characters) was dropped", text.Length);
        return Task.CompletedTask;
    }

    async Task DispatchAsync(DispatchMessage message, CancellationToken cancellationToken)
    {
        var webhooks = (await store.ListAsync(message.Account, cancellationToken)).Where(w => w.Enabled).ToList();
        if (webhooks.Count == 0 || message.To < message.From || message.From < 1)
        {
            return;
        }

        // From the first event: the run's status and waiting tasks at each event are replayed from its log.
        var log = await events.ReadAsync(message.Run, 0, (int)Math.Min(message.To, int.MaxValue), cancellationToken);
        var logged = log.Where(e => e.Sequence >= message.From).ToList();
        if (logged.Count == 0)
        {
            // The commit this was written ahead of never landed.
            return;
        }

        await Task.WhenAll(webhooks.Select(w => DispatchToAsync(w, message.Run, log, logged, cancellationToken)));
    }

    /// <summary>
    /// One webhook's share of a dispatch, in the order the events were logged. Once an attempt fails, the webhook's
    /// later events of this dispatch wait for the first retry instead of each waiting out a failing endpoint here.
    /// </summary>
    async Task DispatchToAsync(
        WebhookRecord webhook, string runId, IReadOnlyList<RunLogEntry> log, IReadOnlyList<RunLogEntry> logged, CancellationToken cancellationToken)
    {
        var failing = false;
        foreach (var entry in logged.Where(e => webhook.Events.Contains(e.Type) && e.CreatedAt >= webhook.CreatedAt))
        {
            var now = clock.GetUtcNow();
            var id = Ids.DeliveryId(webhook.WebhookId, runId, entry.Sequence);
            var delivery = await store.AddDeliveryAsync(new DeliveryRecord(
                webhook.WebhookId, Ids.NewestFirst(entry.CreatedAt) + id, id, entry.Type, runId, entry.Sequence, entry.CreatedAt,
                Attempts: 0, DeliveryStatus.Pending, null, null, now, now), cancellationToken);
            if (delivery.Status != DeliveryStatus.Pending || delivery.Attempts > 0)
            {
                // Made before this message was seen again: its own retries carry it on.
                continue;
            }

            if (failing)
            {
                await RetryLaterAsync(webhook, delivery, 1, settings.RetryDelay(1, null, Random.Shared.NextDouble()), null, null, cancellationToken);
                continue;
            }

            failing = !await AttemptAsync(webhook, delivery, 1, WebhookPayload.Build(runId, log, entry), cancellationToken);
        }
    }

    async Task DeliverAsync(DeliverMessage message, CancellationToken cancellationToken)
    {
        var webhook = await store.GetAsync(message.Account, message.Webhook, cancellationToken);
        var delivery = webhook is null ? null : await store.GetDeliveryAsync(message.Webhook, message.Delivery, cancellationToken);
        if (webhook is null || delivery is null || delivery.Status != DeliveryStatus.Pending || delivery.Attempts != message.Attempt - 1)
        {
            // The webhook was deleted, or this attempt was made already (the message was seen again).
            return;
        }

        if (!webhook.Enabled)
        {
            await store.TryReplaceDeliveryAsync(delivery with
            {
                Status = DeliveryStatus.Failed, NextAttemptAt = null, LastError = "The webhook was disabled: " + webhook.DisabledReason,
            }, cancellationToken);
            return;
        }

        var log = await events.ReadAsync(delivery.RunId, 0, (int)Math.Min(delivery.Sequence, int.MaxValue), cancellationToken);
        var entry = log.FirstOrDefault(e => e.Sequence == delivery.Sequence)
                    ?? throw new InvalidOperationException($"Event {delivery.Sequence} of run {delivery.RunId} is not in its log.");
        await AttemptAsync(webhook, delivery, message.Attempt, WebhookPayload.Build(delivery.RunId, log, entry), cancellationToken);
    }

    /// <summary>Makes attempt <paramref name="attempt"/> and records it; true when the receiver took the delivery.</summary>
    async Task<bool> AttemptAsync(WebhookRecord webhook, DeliveryRecord delivery, int attempt, string body, CancellationToken cancellationToken)
    {
        var signing = new List<string>();
        foreach (var name in webhook.SigningSecrets(clock.GetUtcNow()))
        {
            if (await secrets.GetAsync(name, cancellationToken) is { } secret)
            {
                signing.Add(secret);
            }
        }

        if (signing.Count == 0)
        {
            // Deleted with its webhook a moment ago.
            return false;
        }

        AttemptResult result;
        using (var telemetry = OrchflowTelemetry.StartWebhookDelivery(delivery.RunId, webhook.WebhookId, delivery.EventType, attempt))
        {
            result = await sender.SendAsync(webhook.Url, delivery.DeliveryId, body, signing, cancellationToken);
            if (result.Outcome == AttemptOutcome.Delivered)
            {
                telemetry.Delivered(result.StatusCode ?? 200);
            }
            else
            {
                telemetry.Failed(result.StatusCode is null ? WebhookDelivery.Outcomes.Unreachable : WebhookDelivery.Outcomes.Rejected, result.StatusCode);
            }
        }

        var now = clock.GetUtcNow();
        switch (result.Outcome)
        {
            case AttemptOutcome.Delivered:
                await store.TryReplaceDeliveryAsync(delivery with
                {
                    Attempts = attempt, Status = DeliveryStatus.Succeeded, LastStatusCode = result.StatusCode, LastError = null, NextAttemptAt = null,
                }, cancellationToken);
                log.LogInformation("Delivery {DeliveryId} of webhook {WebhookId} ({EventType}) succeeded on attempt {Attempt} with {Status}",
                    delivery.DeliveryId, webhook.WebhookId, delivery.EventType, attempt, result.StatusCode);
                return true;

            case AttemptOutcome.Gone:
                await DisableAsync(webhook, $"The endpoint answered 410 Gone at {now:u}; register it again to receive deliveries.", cancellationToken);
                await store.TryReplaceDeliveryAsync(delivery with
                {
                    Attempts = attempt, Status = DeliveryStatus.Failed, LastStatusCode = result.StatusCode, LastError = result.Error, NextAttemptAt = null,
                }, cancellationToken);
                log.LogWarning("Webhook {WebhookId} answered 410 Gone to delivery {DeliveryId}: the webhook is disabled", webhook.WebhookId, delivery.DeliveryId);
                return false;

            case AttemptOutcome.Failed when attempt >= settings.MaxAttempts:
                await store.TryReplaceDeliveryAsync(delivery with
                {
                    Attempts = attempt, Status = DeliveryStatus.Failed, LastStatusCode = result.StatusCode, LastError = result.Error, NextAttemptAt = null,
                }, cancellationToken);
                log.LogWarning("Delivery {DeliveryId} of webhook {WebhookId} failed for good after {Attempts} attempts: {Error}",
                    delivery.DeliveryId, webhook.WebhookId, attempt, result.Error);
                return false;

            default:
                var delay = settings.RetryDelay(attempt, result.RetryAfter, Random.Shared.NextDouble());
                await RetryLaterAsync(webhook, delivery with { Attempts = attempt }, attempt + 1, delay, result.StatusCode, result.Error, cancellationToken);
                log.LogInformation("Delivery {DeliveryId} of webhook {WebhookId} attempt {Attempt} failed ({Error}); next in {Delay}",
                    delivery.DeliveryId, webhook.WebhookId, attempt, result.Error, delay);
                return false;
        }
    }

    /// <summary>
    /// Queues attempt <paramref name="next"/> to show after <paramref name="delay"/>, then records the delivery as
    /// waiting for it. Queued first: a crash in between leaves the message that brought this attempt to be seen
    /// again, never a delivery that nothing will attempt. When another handler recorded first, this retry goes.
    /// </summary>
    async Task RetryLaterAsync(
        WebhookRecord webhook, DeliveryRecord delivery, int next, TimeSpan delay, int? status, string? error, CancellationToken cancellationToken)
    {
        var queued = await queue.SendAsync(new DeliverMessage(webhook.AccountId, webhook.WebhookId, delivery.Key, next).ToJson(), delay, cancellationToken);
        var recorded = await store.TryReplaceDeliveryAsync(delivery with
        {
            LastStatusCode = status ?? delivery.LastStatusCode, LastError = error ?? delivery.LastError, NextAttemptAt = clock.GetUtcNow() + delay,
        }, cancellationToken);
        if (!recorded)
        {
            await queue.DeleteAsync(queued, cancellationToken);
        }
    }

    async Task DisableAsync(WebhookRecord webhook, string reason, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var current = await store.GetAsync(webhook.AccountId, webhook.WebhookId, cancellationToken);
            if (current is null || !current.Enabled || await store.TryReplaceAsync(current with { DisabledReason = reason }, cancellationToken))
            {
                break;
            }
        }

        directory.Forget(webhook.AccountId);
    }
}
