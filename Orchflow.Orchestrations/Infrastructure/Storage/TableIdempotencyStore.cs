using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// Idempotency keys on Table Storage: PK the account, RK a hash of the key, so one account's keys never meet another's.
/// A claim is an insert, so of two requests with one key exactly one is first. A claim whose request never finished
/// (its process died) lapses after <see cref="Lease"/>. Answers that carry a secret are kept in the secret store, never
/// in the table, under a name of their own. Keys live a day: an expired row is taken over by the next request with its
/// key, and now and then a new claim sweeps the account's expired rows. An answer that names something deleted (a
/// webhook whose secret it shows, an erased run) is forgotten with it.
/// </summary>
public sealed class TableIdempotencyStore(OrchflowTables tables, ISecretStore secrets, TimeProvider clock) : IIdempotencyStore
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>Longer than any request takes; a claim older than this was abandoned.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    const int SweepOneClaimIn = 50;

    public async Task<IdempotencyClaim> ClaimAsync(string accountId, string key, string fingerprint, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var keyHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var now = clock.GetUtcNow();
            var fresh = new TableEntity(accountId, keyHash)
            {
                ["Fingerprint"] = fingerprint,
                ["State"] = "in_progress",
                ["LockedUntil"] = now + Lease,
                ["ExpiresAt"] = now + Lifetime,
            };
            try
            {
                var added = await tables.Idempotency.AddEntityAsync(fresh, cancellationToken);
                if (Random.Shared.Next(SweepOneClaimIn) == 0)
                {
                    await SweepAsync(accountId, now, cancellationToken);
                }

                return new IdempotencyClaim(IdempotencyOutcome.Claimed, accountId, keyHash, added.Headers.ETag?.ToString());
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                // The key is taken: by this same request earlier, by another one, or by a request long gone.
            }

            var row = await tables.Idempotency.GetEntityIfExistsAsync<TableEntity>(accountId, keyHash, cancellationToken: cancellationToken);
            if (!row.HasValue || row.Value is not { } existing)
            {
                continue;
            }

            var expired = existing.GetDateTimeOffset("ExpiresAt") < now;
            var abandoned = existing.GetString("State") == "in_progress" && existing.GetDateTimeOffset("LockedUntil") < now;
            if (expired || abandoned)
            {
                try
                {
                    await DeleteSecretAsync(existing, cancellationToken);
                    var taken = await tables.Idempotency.UpdateEntityAsync(fresh, existing.ETag, TableUpdateMode.Replace, cancellationToken);
                    return new IdempotencyClaim(IdempotencyOutcome.Claimed, accountId, keyHash, taken.Headers.ETag?.ToString());
                }
                catch (RequestFailedException e) when (e.Status is 404 or 412)
                {
                    continue;
                }
            }

            if (existing.GetString("Fingerprint") != fingerprint)
            {
                return new IdempotencyClaim(IdempotencyOutcome.Mismatch, accountId, keyHash, null);
            }

            if (existing.GetString("State") != "done")
            {
                return new IdempotencyClaim(IdempotencyOutcome.InProgress, accountId, keyHash, null);
            }

            return new IdempotencyClaim(IdempotencyOutcome.Replay, accountId, keyHash, null, await ResponseAsync(existing, cancellationToken));
        }

        throw new InvalidOperationException("The idempotency key kept changing while it was claimed.");
    }

    public async Task CompleteAsync(IdempotencyClaim claim, StoredResponse response, CancellationToken cancellationToken)
    {
        var row = new TableEntity(claim.AccountId, claim.KeyHash)
        {
            ["State"] = "done",
            ["Status"] = response.Status,
            ["ContentType"] = response.ContentType,
            ["Headers"] = JsonSerializer.Serialize(response.Headers),
        };
        if (response.HoldsSecret && response.Body is not null)
        {
            var name = SecretName(claim, clock.GetUtcNow());
            await secrets.SetAsync(name, response.Body, cancellationToken);
            row["BodySecret"] = name;
        }
        else if (response.Body is not null)
        {
            TextChunks.SetProperty(row, "Body", response.Body);
        }

        try
        {
            await tables.Idempotency.UpdateEntityAsync(row, new ETag(claim.ETag!), TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // The key lapsed while this request ran and another request took it over (or it was forgotten): the answer
            // still goes to this client, but the key is no longer this request's to keep it under.
            await DeleteSecretAsync(row, cancellationToken);
        }
    }

    public async Task ForgetAsync(string accountId, string mentioning, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        await foreach (var row in tables.Idempotency.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {accountId}"), cancellationToken: cancellationToken))
        {
            // Answers that create something say where it is (Location); those kept in the table are searched whole.
            if ((row.GetString("Headers") ?? "").Contains(mentioning, StringComparison.Ordinal) ||
                (TextChunks.GetProperty(row, "Body") ?? "").Contains(mentioning, StringComparison.Ordinal))
            {
                await DeleteAsync(row, cancellationToken);
            }
        }
    }

    public async Task ForgetAllAsync(string accountId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        await foreach (var row in tables.Idempotency.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {accountId}"), cancellationToken: cancellationToken))
        {
            await DeleteAsync(row, cancellationToken);
        }
    }

    public async Task ReleaseAsync(IdempotencyClaim claim, CancellationToken cancellationToken)
    {
        try
        {
            await tables.Idempotency.DeleteEntityAsync(claim.AccountId, claim.KeyHash, new ETag(claim.ETag!), cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // Taken over or gone already: nothing of this request's is left to give up.
        }
    }

    async Task<StoredResponse> ResponseAsync(TableEntity row, CancellationToken cancellationToken)
    {
        var secretName = row.GetString("BodySecret");
        var body = secretName is null ? TextChunks.GetProperty(row, "Body") : await secrets.GetAsync(secretName, cancellationToken);
        return new StoredResponse(
            row.GetInt32("Status") ?? 200,
            row.GetString("ContentType"),
            body,
            JsonSerializer.Deserialize<Dictionary<string, string>>(row.GetString("Headers") ?? "{}") ?? [],
            secretName is not null);
    }

    async Task SweepAsync(string accountId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await foreach (var row in tables.Idempotency.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {accountId} and ExpiresAt lt {now}"), cancellationToken: cancellationToken))
        {
            await DeleteAsync(row, cancellationToken);
        }
    }

    /// <summary>
    /// Deletes a row as read, and the secret it names. A row taken over in between (412: a new request reused its key)
    /// is the new request's and stays; its secret, if any, has a name of its own.
    /// </summary>
    async Task DeleteAsync(TableEntity row, CancellationToken cancellationToken)
    {
        try
        {
            await tables.Idempotency.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return;
        }

        await DeleteSecretAsync(row, cancellationToken);
    }

    async Task DeleteSecretAsync(TableEntity row, CancellationToken cancellationToken)
    {
        if (row.GetString("BodySecret") is { } name)
        {
            await secrets.DeleteAsync(name, cancellationToken);
        }
    }

    /// <summary>
    /// A name of its own for each answer kept, never one an earlier use of the key had: Key Vault keeps a deleted
    /// secret's name (soft delete) and refuses to set a secret under it, so an expired key reused would otherwise fail.
    /// Key Vault secret names allow letters, digits and dashes only.
    /// </summary>
    static string SecretName(IdempotencyClaim claim, DateTimeOffset now) =>
        $"idem-{claim.AccountId}-{claim.KeyHash[..32]}-{now.ToUnixTimeMilliseconds():x}{Random.Shared.Next(0x10000):x4}".Replace('_', '-');
}
