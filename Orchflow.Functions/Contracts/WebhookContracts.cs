using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Functions.Contracts;

// Webhook requests and responses. As everywhere, request fields are nullable so a missing one is named in a 422.

public sealed record CreateWebhookRequest(string? Url, IReadOnlyList<string?>? Events, string? Description);

public sealed record WebhookView(
    string WebhookId,
    string Url,
    IReadOnlyList<string> Events,
    string? Description,
    bool Enabled,
    string? DisabledReason,
    DateTimeOffset CreatedAt)
{
    public static WebhookView Of(WebhookRecord w) => new(w.WebhookId, w.Url, w.Events, w.Description, w.Enabled, w.DisabledReason, w.CreatedAt);
}

/// <summary>A new webhook with its secret: the one time the secret is shown.</summary>
public sealed record WebhookCreatedView(
    string WebhookId,
    string Url,
    IReadOnlyList<string> Events,
    string? Description,
    string Secret,
    bool Enabled,
    DateTimeOffset CreatedAt);

public sealed record WebhookListView(IReadOnlyList<WebhookView> Webhooks);

/// <summary>A rotated secret: the new one, shown this once, and until when the previous one still signs beside it.</summary>
public sealed record WebhookSecretView(string WebhookId, string Secret, DateTimeOffset PreviousSecretExpiresAt);

public sealed record DeliveryView(
    string DeliveryId,
    string EventType,
    string RunId,
    long Sequence,
    int Attempts,
    string Status,
    int? LastStatusCode,
    string? LastError,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset CreatedAt)
{
    public static DeliveryView Of(DeliveryRecord d) => new(
        d.DeliveryId, d.EventType, d.RunId, d.Sequence, d.Attempts, WireNames.Of(d.Status), d.LastStatusCode, d.LastError, d.NextAttemptAt, d.CreatedAt);
}

public sealed record DeliveryListView(IReadOnlyList<DeliveryView> Deliveries);
