using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// Accounts on Table Storage. Three kinds of row, each under its own partition so every lookup is one point read:
/// the account (PK <c>account</c>), its API key hash (PK <c>key</c>, RK the hash) and its email (PK <c>email</c>,
/// RK a hash of the normalised address, which doubles as the uniqueness check).
/// </summary>
public sealed class TableAccountStore(OrchflowTables tables) : IAccountStore
{
    const string AccountPartition = "account";
    const string KeyPartition = "key";
    const string EmailPartition = "email";
    const int MaxWriteAttempts = 16;

    public async Task<bool> TryCreateAsync(Account account, string apiKeyHash, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        try
        {
            await tables.Accounts.AddEntityAsync(
                new TableEntity(EmailPartition, EmailKey(account.Email)) { ["AccountId"] = account.AccountId },
                cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false;
        }

        await tables.Accounts.AddEntityAsync(
            new TableEntity(AccountPartition, account.AccountId)
            {
                ["Name"] = account.Name,
                ["Email"] = account.Email,
                ["TrialRunsRemaining"] = account.TrialRunsRemaining,
                ["CreatedAt"] = account.CreatedAt,
            },
            cancellationToken);
        await tables.Accounts.AddEntityAsync(
            new TableEntity(KeyPartition, apiKeyHash) { ["AccountId"] = account.AccountId },
            cancellationToken);
        return true;
    }

    public async Task<Account?> FindByKeyHashAsync(string apiKeyHash, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var key = await tables.Accounts.GetEntityIfExistsAsync<TableEntity>(KeyPartition, apiKeyHash, cancellationToken: cancellationToken);
        if (!key.HasValue || key.Value is null)
        {
            return null;
        }

        // The row was found by the hash itself; compare once more in constant time so a store that matched
        // loosely (or a future index) can never let a different key through.
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(key.Value.RowKey), Encoding.ASCII.GetBytes(apiKeyHash)))
        {
            return null;
        }

        var accountId = key.Value.GetString("AccountId");
        var row = await tables.Accounts.GetEntityIfExistsAsync<TableEntity>(AccountPartition, accountId, cancellationToken: cancellationToken);
        return row.HasValue && row.Value is not null ? ToAccount(row.Value) : null;
    }

    public async Task<bool> TryConsumeTrialRunAsync(string accountId, CancellationToken cancellationToken) =>
        await ChangeTrialRunsAsync(accountId, -1, cancellationToken);

    public async Task RefundTrialRunAsync(string accountId, CancellationToken cancellationToken) =>
        await ChangeTrialRunsAsync(accountId, +1, cancellationToken);

    /// <summary>Optimistic read-modify-write on the account row: of two concurrent takers of the last run, one wins.</summary>
    async Task<bool> ChangeTrialRunsAsync(string accountId, int delta, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        for (var attempt = 0; attempt < MaxWriteAttempts; attempt++)
        {
            var row = (await tables.Accounts.GetEntityAsync<TableEntity>(AccountPartition, accountId, cancellationToken: cancellationToken)).Value;
            var remaining = row.GetInt32("TrialRunsRemaining") ?? 0;
            if (remaining + delta < 0)
            {
                return false;
            }

            var update = new TableEntity(AccountPartition, accountId) { ["TrialRunsRemaining"] = remaining + delta };
            try
            {
                await tables.Accounts.UpdateEntityAsync(update, row.ETag, TableUpdateMode.Merge, cancellationToken);
                return true;
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
                await Task.Delay(Random.Shared.Next(5, 25) * (attempt + 1), cancellationToken);
            }
        }

        throw new InvalidOperationException($"The trial allowance of {accountId} kept changing; try again.");
    }

    static string EmailKey(string email) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email.Trim().ToLowerInvariant())));

    static Account ToAccount(TableEntity e) => new(
        e.RowKey,
        e.GetString("Name") ?? "",
        e.GetString("Email") ?? "",
        e.GetInt32("TrialRunsRemaining") ?? 0,
        e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue);
}
