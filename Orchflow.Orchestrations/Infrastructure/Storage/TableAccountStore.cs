using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// Accounts on Table Storage. Each kind of row under its own partition so every lookup is one point read: the account
/// (PK <c>account</c>), its email (PK <c>email</c>, RK a hash of the normalised address, which doubles as the uniqueness
/// check) and its API keys (<see cref="ApiKeyRows"/>).
/// </summary>
public sealed class TableAccountStore(OrchflowTables tables) : IAccountStore
{
    internal const string AccountPartition = "account";
    internal const string EmailPartition = "email";
    const int MaxWriteAttempts = 16;

    /// <summary>
    /// Registration's rows live in four partitions, so no one batch can hold them: each write done is undone, newest
    /// first, when a later one fails, and the failure goes on to the caller. No half-made account is left to hold the
    /// email or to answer its key.
    /// </summary>
    public async Task<bool> TryCreateAsync(Account account, ApiKeyRecord firstKey, string apiKeyHash, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var emailKey = EmailKey(account.Email);
        try
        {
            await tables.Accounts.AddEntityAsync(new TableEntity(EmailPartition, emailKey) { ["AccountId"] = account.AccountId }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false;
        }

        var undo = new Stack<(string Partition, string Row)>();
        undo.Push((EmailPartition, emailKey));
        try
        {
            await tables.Accounts.AddEntityAsync(
                new TableEntity(AccountPartition, account.AccountId)
                {
                    ["Name"] = account.Name,
                    ["Email"] = account.Email,
                    ["TrialRunsRemaining"] = account.TrialRunsRemaining,
                    ["CreatedAt"] = account.CreatedAt,
                },
                cancellationToken);
            undo.Push((AccountPartition, account.AccountId));
            var listed = ApiKeyRows.Index(firstKey, apiKeyHash);
            await tables.Accounts.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.Add, listed),
                new TableTransactionAction(TableTransactionActionType.Add, ApiKeyRows.GuardRow(account.AccountId, 1)),
            ], cancellationToken);
            undo.Push((listed.PartitionKey, listed.RowKey));
            undo.Push((listed.PartitionKey, ApiKeyRows.Guard));
            await tables.Accounts.AddEntityAsync(ApiKeyRows.Lookup(apiKeyHash, account.AccountId, firstKey.KeyId), cancellationToken);
            return true;
        }
        catch (Exception)
        {
            while (undo.TryPop(out var row))
            {
                await tables.Accounts.DeleteEntityAsync(row.Partition, row.Row, ETag.All, CancellationToken.None);
            }

            throw;
        }
    }

    public async Task<Account?> FindByKeyHashAsync(string apiKeyHash, CancellationToken cancellationToken) =>
        (await new TableApiKeyStore(tables).FindAsync(apiKeyHash, cancellationToken))?.Account;

    public async Task<bool> TryConsumeTrialRunAsync(string accountId, CancellationToken cancellationToken) =>
        await ChangeTrialRunsAsync(accountId, -1, cancellationToken);

    public async Task RefundTrialRunAsync(string accountId, CancellationToken cancellationToken) =>
        await ChangeTrialRunsAsync(accountId, +1, cancellationToken);

    public async Task CloseAsync(string accountId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        try
        {
            await tables.Accounts.UpdateEntityAsync(new TableEntity(AccountPartition, accountId) { [ClosedColumn] = true }, ETag.All,
                TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // Erased already: closed for good.
        }
    }

    /// <summary>Set on an account being erased: its keys are refused whatever rows of them are still left.</summary>
    internal const string ClosedColumn = "Closed";

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

    internal static string EmailKey(string email) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email.Trim().ToLowerInvariant())));

    internal static Account ToAccount(TableEntity e) => new(
        e.RowKey,
        e.GetString("Name") ?? "",
        e.GetString("Email") ?? "",
        e.GetInt32("TrialRunsRemaining") ?? 0,
        e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue);
}
