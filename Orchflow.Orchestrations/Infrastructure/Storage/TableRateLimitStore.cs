using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// Shared token buckets on Table Storage: one row per bucket, each its own partition (no hot partition however many
/// keys are limited), updated by ETag so that instances claiming from one bucket at once never take a token twice.
/// </summary>
public sealed class TableRateLimitStore(OrchflowTables tables, TimeProvider clock) : IRateLimitStore
{
    const string RowKey = "bucket";
    const int MaxWriteAttempts = 16;

    public async Task<BucketClaim> ClaimAsync(string bucket, BucketPolicy policy, int wanted, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        for (var attempt = 0; attempt < MaxWriteAttempts; attempt++)
        {
            var now = clock.GetUtcNow();
            var row = await tables.RateLimits.GetEntityIfExistsAsync<TableEntity>(bucket, RowKey, cancellationToken: cancellationToken);
            var stored = row.HasValue ? row.Value : null;
            var tokens = stored is null
                ? policy.Capacity
                : policy.Refill(stored.GetDouble("Tokens") ?? 0, stored.GetDateTimeOffset("At") ?? now, now);
            var granted = (int)Math.Min(wanted, Math.Floor(tokens));
            if (granted == 0)
            {
                // Nothing to take: the row stays as it is, so a flood against an empty bucket costs reads only.
                return new BucketClaim(0, tokens, now);
            }

            var entity = new TableEntity(bucket, RowKey)
            {
                ["Tokens"] = tokens - granted,
                ["At"] = now,
                // How many claims this bucket has served: what limiting costs in storage, readable from the row.
                ["Claims"] = (stored?.GetInt64("Claims") ?? 0) + 1,
            };
            try
            {
                if (stored is null)
                {
                    await tables.RateLimits.AddEntityAsync(entity, cancellationToken);
                }
                else
                {
                    await tables.RateLimits.UpdateEntityAsync(entity, stored.ETag, TableUpdateMode.Replace, cancellationToken);
                }

                return new BucketClaim(granted, tokens - granted, now);
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Another instance claimed from this bucket in between: read it again.
                await Task.Delay(Random.Shared.Next(1, 5) * (attempt + 1), cancellationToken);
            }
        }

        throw new InvalidOperationException($"The rate limit bucket {bucket} kept changing while it was claimed from.");
    }

    public async Task ForgetAsync(string bucket, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        await tables.RateLimits.DeleteEntityAsync(bucket, RowKey, ETag.All, cancellationToken);
    }
}
