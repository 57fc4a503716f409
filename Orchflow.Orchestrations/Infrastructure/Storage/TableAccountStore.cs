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
    /// How long a registration's claim of its email may stay unconfirmed before another registration of that email
    /// takes it over, erasing what the first left: far longer than the few writes of a registration take, so only one
    /// whose process died midway is ever taken over.
    /// </summary>
    internal static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(1);

    /// <summary>Set on an email row while its registration is unfinished; rows from before it have none and count as done.</summary>
    internal const string PendingColumn = "Pending";

    /// <summary>
    /// Registration's rows live in four partitions, so no one batch can hold them. The email is claimed first (its row
    /// marked pending), then the account, its key's listing and its lookup are written, and the claim is confirmed last.
    /// Should a write fail, those done are undone, newest first, and the failure goes on to the caller. Should the process
    /// die midway, nothing it wrote works (the key, if written, was never handed out) and the unconfirmed claim names
    /// the account: a registration of the same email <see cref="AbandonedAfter"/> later erases those rows and takes the
    /// email over. A key is only ever written after its account, so no key stands without one.
    /// </summary>
    public async Task<bool> TryCreateAsync(Account account, ApiKeyRecord firstKey, string apiKeyHash, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var emailKey = EmailKey(account.Email);
        if (await TryClaimEmailAsync(emailKey, account, cancellationToken) is not { } claimed)
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
            undo.Push((ApiKeyRows.LookupPartition, apiKeyHash));
            // Guarded by the claim's ETag: a claim taken over meanwhile (this registration took longer than AbandonedAfter) fails here.
            await tables.Accounts.UpdateEntityAsync(new TableEntity(EmailPartition, emailKey) { [PendingColumn] = false }, claimed,
                TableUpdateMode.Merge, cancellationToken);
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

    /// <summary>
    /// Claims the email for the account: the ETag of its pending row, or null when another account holds it (registered,
    /// or its registration still under way). A claim left unconfirmed longer than <see cref="AbandonedAfter"/> is taken
    /// over: the rows of its account are erased, then the claim itself (guarded by its ETag, so of two registrations
    /// taking it over at once only one erases it), and the email is claimed again.
    /// </summary>
    async Task<ETag?> TryClaimEmailAsync(string emailKey, Account account, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxWriteAttempts; attempt++)
        {
            try
            {
                var added = await tables.Accounts.AddEntityAsync(
                    new TableEntity(EmailPartition, emailKey)
                    {
                        ["AccountId"] = account.AccountId,
                        [PendingColumn] = true,
                        ["ClaimedAt"] = account.CreatedAt,
                    },
                    cancellationToken);
                return added.Headers.ETag ?? ETag.All;
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
            }

            var held = await tables.Accounts.GetEntityIfExistsAsync<TableEntity>(EmailPartition, emailKey, cancellationToken: cancellationToken);
            if (!held.HasValue || held.Value is not { } claim)
            {
                continue;
            }

            var abandoned = (claim.GetBoolean(PendingColumn) ?? false) &&
                            account.CreatedAt - (claim.GetDateTimeOffset("ClaimedAt") ?? DateTimeOffset.MinValue) > AbandonedAfter;
            if (!abandoned)
            {
                return null;
            }

            await ApiKeyRows.DeleteAllAsync(tables, claim.GetString("AccountId") ?? "", cancellationToken);
            await tables.Accounts.DeleteEntityAsync(AccountPartition, claim.GetString("AccountId") ?? "", ETag.All, cancellationToken);
            try
            {
                await tables.Accounts.DeleteEntityAsync(EmailPartition, emailKey, claim.ETag, cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
                // Another registration took it over first: the next round finds its claim.
            }
        }

        return null;
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
