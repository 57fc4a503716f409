using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// Webhooks on Table Storage, one partition per account counted by its guard row (<see cref="CountedPartition"/>), and their deliveries, one partition per webhook with row
/// keys that sort the newest event first, so a webhook's latest deliveries are the start of one range.
/// </summary>
public sealed class TableWebhookStore(OrchflowTables tables) : IWebhookStore
{
    const int Batch = 100;

    public async Task<bool> TryCreateAsync(WebhookRecord webhook, int maxPerAccount, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        return (await Counted(webhook.AccountId).TryAddAsync(ToEntity(webhook), maxPerAccount, cancellationToken)).Added;
    }

    public async Task<WebhookRecord?> GetAsync(string accountId, string webhookId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        if (!CountedPartition.IsItemKey(webhookId))
        {
            return null;
        }

        var row = await tables.Webhooks.GetEntityIfExistsAsync<TableEntity>(accountId, webhookId, cancellationToken: cancellationToken);
        return row.HasValue && row.Value is not null ? ToWebhook(row.Value) : null;
    }

    public async Task<IReadOnlyList<WebhookRecord>> ListAsync(string accountId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var webhooks = (await Counted(accountId).ItemsAsync(cancellationToken)).Select(ToWebhook);
        return webhooks.OrderBy(w => w.CreatedAt).ThenBy(w => w.WebhookId, StringComparer.Ordinal).ToList();
    }

    public async Task<bool> TryReplaceAsync(WebhookRecord webhook, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        try
        {
            await tables.Webhooks.UpdateEntityAsync(ToEntity(webhook), new ETag(webhook.ETag!), TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
    }

    public async Task<bool> DeleteAsync(string accountId, string webhookId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        if (!await Counted(accountId).DeleteAsync(webhookId, null, cancellationToken))
        {
            return false;
        }

        // Its deliveries go with it, a batch at a time; nothing reads them once the webhook is gone.
        var keys = new List<string>();
        await foreach (var e in tables.WebhookDeliveries.QueryAsync<TableEntity>(
                           e => e.PartitionKey == webhookId, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            keys.Add(e.RowKey);
        }

        foreach (var chunk in keys.Chunk(Batch))
        {
            await tables.WebhookDeliveries.SubmitTransactionAsync(
                chunk.Select(k => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(webhookId, k), ETag.All)),
                cancellationToken);
        }

        return true;
    }

    public async Task<DeliveryRecord> AddDeliveryAsync(DeliveryRecord delivery, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        try
        {
            var response = await tables.WebhookDeliveries.AddEntityAsync(ToEntity(delivery), cancellationToken);
            return delivery with { ETag = response.Headers.ETag?.ToString() };
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // Recorded when this event was handled before: that record, and what became of it, stands.
            return await GetDeliveryAsync(delivery.WebhookId, delivery.Key, cancellationToken)
                   ?? throw new InvalidOperationException($"Delivery {delivery.DeliveryId} exists and cannot be read.");
        }
    }

    public async Task<DeliveryRecord?> GetDeliveryAsync(string webhookId, string key, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var row = await tables.WebhookDeliveries.GetEntityIfExistsAsync<TableEntity>(webhookId, key, cancellationToken: cancellationToken);
        return row.HasValue && row.Value is not null ? ToDelivery(row.Value) : null;
    }

    public async Task<bool> TryReplaceDeliveryAsync(DeliveryRecord delivery, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        try
        {
            await tables.WebhookDeliveries.UpdateEntityAsync(ToEntity(delivery), new ETag(delivery.ETag!), TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<DeliveryRecord>> ListDeliveriesAsync(string webhookId, int limit, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var deliveries = new List<DeliveryRecord>();
        await foreach (var e in tables.WebhookDeliveries.QueryAsync<TableEntity>(
                           e => e.PartitionKey == webhookId, maxPerPage: limit, cancellationToken: cancellationToken))
        {
            deliveries.Add(ToDelivery(e));
            if (deliveries.Count == limit)
            {
                break;
            }
        }

        return deliveries;
    }

    /// <summary>The account's webhooks, counted so that concurrent registrations never pass the cap together.</summary>
    CountedPartition Counted(string accountId) => new(tables.Webhooks, accountId);

    static TableEntity ToEntity(WebhookRecord w) => new(w.AccountId, w.WebhookId)
    {
        ["Url"] = w.Url,
        ["Events"] = string.Join(',', w.Events),
        ["Description"] = w.Description,
        ["SecretVersion"] = w.SecretVersion,
        ["SecretName"] = w.SecretName,
        ["PreviousSecretName"] = w.PreviousSecretName,
        ["PreviousSecretUntil"] = w.PreviousSecretUntil,
        ["DisabledReason"] = w.DisabledReason,
        ["CreatedAt"] = w.CreatedAt,
    };

    static WebhookRecord ToWebhook(TableEntity e) => new(
        e.PartitionKey,
        e.RowKey,
        e.GetString("Url") ?? "",
        (e.GetString("Events") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries),
        e.GetString("Description"),
        e.GetInt32("SecretVersion") ?? 1,
        e.GetString("SecretName") ?? "",
        e.GetString("PreviousSecretName"),
        e.GetDateTimeOffset("PreviousSecretUntil"),
        e.GetString("DisabledReason"),
        e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        e.ETag.ToString());

    static TableEntity ToEntity(DeliveryRecord d) => new(d.WebhookId, d.Key)
    {
        ["DeliveryId"] = d.DeliveryId,
        ["EventType"] = d.EventType,
        ["RunId"] = d.RunId,
        ["Sequence"] = d.Sequence,
        ["EventAt"] = d.EventAt,
        ["Attempts"] = d.Attempts,
        ["Status"] = WireNames.Of(d.Status),
        ["LastStatusCode"] = d.LastStatusCode,
        ["LastError"] = d.LastError,
        ["NextAttemptAt"] = d.NextAttemptAt,
        ["CreatedAt"] = d.CreatedAt,
    };

    static DeliveryRecord ToDelivery(TableEntity e) => new(
        e.PartitionKey,
        e.RowKey,
        e.GetString("DeliveryId") ?? "",
        e.GetString("EventType") ?? "",
        e.GetString("RunId") ?? "",
        e.GetInt64("Sequence") ?? 0,
        e.GetDateTimeOffset("EventAt") ?? DateTimeOffset.MinValue,
        e.GetInt32("Attempts") ?? 0,
        WireNames.Parse<DeliveryStatus>(e.GetString("Status") ?? "pending"),
        e.GetInt32("LastStatusCode"),
        e.GetString("LastError"),
        e.GetDateTimeOffset("NextAttemptAt"),
        e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        e.ETag.ToString());
}
