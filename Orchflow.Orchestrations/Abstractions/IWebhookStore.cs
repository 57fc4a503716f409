namespace Orchflow.Abstractions;

/// <summary>
/// An endpoint an account registered to be sent its runs' events. Holds the names its signing secrets have in the
/// secret store, never the secrets: the current one and, for a while after a rotation, the one before it.
/// </summary>
public sealed record WebhookRecord(
    string AccountId,
    string WebhookId,
    string Url,
    IReadOnlyList<string> Events,
    string? Description,
    int SecretVersion,
    string SecretName,
    string? PreviousSecretName,
    DateTimeOffset? PreviousSecretUntil,
    string? DisabledReason,
    DateTimeOffset CreatedAt,
    string? ETag = null)
{
    public bool Enabled => DisabledReason is null;

    /// <summary>The secrets that sign a delivery sent at <paramref name="now"/>: the current one first.</summary>
    public IReadOnlyList<string> SigningSecrets(DateTimeOffset now) =>
        PreviousSecretName is { } previous && PreviousSecretUntil > now ? [SecretName, previous] : [SecretName];
}

/// <summary>Where one delivery stands.</summary>
public enum DeliveryStatus
{
    Pending,
    Succeeded,
    Failed,
}

/// <summary>
/// One event on its way to one webhook. <paramref name="Key"/> sorts newest event first and is derived from the
/// event and the webhook only, so recording the same delivery twice finds the first.
/// </summary>
public sealed record DeliveryRecord(
    string WebhookId,
    string Key,
    string DeliveryId,
    string EventType,
    string RunId,
    long Sequence,
    DateTimeOffset EventAt,
    int Attempts,
    DeliveryStatus Status,
    int? LastStatusCode,
    string? LastError,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset CreatedAt,
    string? ETag = null);

/// <summary>Webhooks by account and their deliveries by webhook.</summary>
public interface IWebhookStore
{
    /// <summary>Adds the webhook unless the account already has <paramref name="maxPerAccount"/>; false then, and nothing stored.</summary>
    Task<bool> TryCreateAsync(WebhookRecord webhook, int maxPerAccount, CancellationToken cancellationToken);

    Task<WebhookRecord?> GetAsync(string accountId, string webhookId, CancellationToken cancellationToken);

    /// <summary>The account's webhooks, oldest first.</summary>
    Task<IReadOnlyList<WebhookRecord>> ListAsync(string accountId, CancellationToken cancellationToken);

    /// <summary>Replaces the webhook as read (its ETag); false when it changed or went in between.</summary>
    Task<bool> TryReplaceAsync(WebhookRecord webhook, CancellationToken cancellationToken);

    /// <summary>Deletes the webhook and its deliveries; false when the account has no such webhook.</summary>
    Task<bool> DeleteAsync(string accountId, string webhookId, CancellationToken cancellationToken);

    /// <summary>Records a delivery; when one with its key is recorded already, returns that one instead.</summary>
    Task<DeliveryRecord> AddDeliveryAsync(DeliveryRecord delivery, CancellationToken cancellationToken);

    Task<DeliveryRecord?> GetDeliveryAsync(string webhookId, string key, CancellationToken cancellationToken);

    /// <summary>Replaces the delivery as read (its ETag); false when another attempt recorded itself first.</summary>
    Task<bool> TryReplaceDeliveryAsync(DeliveryRecord delivery, CancellationToken cancellationToken);

    /// <summary>The webhook's deliveries, newest event first.</summary>
    Task<IReadOnlyList<DeliveryRecord>> ListDeliveriesAsync(string webhookId, int limit, CancellationToken cancellationToken);
}
