using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>
/// Registration when its process dies between two of its five writes (the email's claim, the account, the key's listing,
/// its lookup, the claim's confirmation), on Azurite: no key ever stands without its account, an account without a
/// working key is only ever one whose email claim is still pending, and a registration of the same email once the
/// claim is abandoned erases what the dead one left and succeeds.
/// </summary>
[TestFixture]
public sealed class RegistrationCrashTests
{
    // Tables of each test's own, so fixed emails never meet another test's.
    string prefix = null!;
    OrchflowTables tables = null!;
    TableAccountStore accounts = null!;

    [SetUp]
    public async Task NewTablesAsync()
    {
        prefix = StorageFixture.NewTablePrefix();
        tables = StorageFixture.NewTables(prefix);
        await tables.EnsureCreatedAsync();
        accounts = new TableAccountStore(tables);
    }

    [Test]
    public async Task TryCreateAsync_ProcessDiesMidway_LeavesNoKeyWithoutAccountAndTheEmailIsTakenOverOnceAbandoned([Range(1, 4)] int writesBeforeDeath)
    {
        var dead = NewAccount("dead@example.com", DateTimeOffset.UtcNow);
        var deadHash = TableApiKeyStoreTests.NewHash();
        var process = new DyingProcess(writesBeforeDeath);

        Assert.ThrowsAsync<ProcessDiedException>(() =>
            new TableAccountStore(process.Tables(prefix)).TryCreateAsync(dead, TableApiKeyStoreTests.FirstKey(dead), deadHash, CancellationToken.None));
        var violations = await ViolationsAsync();
        var left = await StorageFixture.RowsNamingAsync(prefix, dead.AccountId);
        var soon = NewAccount(dead.Email, dead.CreatedAt.AddSeconds(30));
        var retriedSoon = await accounts.TryCreateAsync(soon, TableApiKeyStoreTests.FirstKey(soon), TableApiKeyStoreTests.NewHash(), CancellationToken.None);
        var later = NewAccount(dead.Email, dead.CreatedAt + TableAccountStore.AbandonedAfter + TimeSpan.FromSeconds(1));
        var laterHash = TableApiKeyStoreTests.NewHash();
        var retriedLater = await accounts.TryCreateAsync(later, TableApiKeyStoreTests.FirstKey(later), laterHash, CancellationToken.None);

        var keys = new TableApiKeyStore(tables);
        Assert.Multiple(async () =>
        {
            Assert.That(process.Died, Is.True, "precondition: the process died before registration ended");
            Assert.That(violations, Is.Empty);
            Assert.That(left, Is.Not.Empty, "precondition: the dead registration left rows");
            Assert.That(retriedSoon, Is.False, "a claim moments old may be a registration still under way: the email stays held");
            Assert.That(retriedLater, Is.True, "an abandoned claim is taken over");
            Assert.That(await StorageFixture.RowsNamingAsync(prefix, dead.AccountId), Is.Empty, "and what the dead registration wrote is erased");
            Assert.That(await keys.FindAsync(deadHash, CancellationToken.None), Is.Null);
            Assert.That((await keys.FindAsync(laterHash, CancellationToken.None))?.Account.AccountId, Is.EqualTo(later.AccountId));
            Assert.That(await ViolationsAsync(), Is.Empty);
        });
    }

    [Test]
    public async Task TryCreateAsync_EmailOfAConfirmedAccount_IsRefusedHoweverLongAgo()
    {
        var first = NewAccount("taken@example.com", DateTimeOffset.UtcNow);
        await accounts.TryCreateAsync(first, TableApiKeyStoreTests.FirstKey(first), TableApiKeyStoreTests.NewHash(), CancellationToken.None);
        var much = NewAccount(first.Email, first.CreatedAt.AddDays(400));

        var created = await accounts.TryCreateAsync(much, TableApiKeyStoreTests.FirstKey(much), TableApiKeyStoreTests.NewHash(), CancellationToken.None);

        Assert.That(created, Is.False);
        Assert.That(await StorageFixture.RowsNamingAsync(prefix, first.AccountId), Has.Some.StartsWith("Accounts | account | "));
    }

    [Test]
    public async Task TryCreateAsync_EmailRowFromBeforeClaims_IsRefused()
    {
        // Rows written before registration claimed emails have no Pending column: they are registered accounts.
        const string email = "before@example.com";
        await tables.Accounts.AddEntityAsync(new TableEntity("email", TableAccountStore.EmailKey(email)) { ["AccountId"] = Ids.NewAccountId() });
        var account = NewAccount(email, DateTimeOffset.UtcNow.AddDays(30));

        Assert.That(await accounts.TryCreateAsync(account, TableApiKeyStoreTests.FirstKey(account), TableApiKeyStoreTests.NewHash(), CancellationToken.None), Is.False);
    }

    /// <summary>
    /// What must never be seen, however registration ended: a key's lookup naming an account that has no row, or an
    /// account without a key that works unless its email's claim is still pending (a registration not finished).
    /// </summary>
    async Task<List<string>> ViolationsAsync()
    {
        var rows = new List<TableEntity>();
        await foreach (var row in tables.Accounts.QueryAsync<TableEntity>())
        {
            rows.Add(row);
        }

        var accountIds = rows.Where(r => r.PartitionKey == "account").Select(r => r.RowKey).ToHashSet();
        var keyed = rows.Where(r => r.PartitionKey == "key").Select(r => r.GetString("AccountId")).ToHashSet();
        var claimed = rows.Where(r => r.PartitionKey == "email" && (r.GetBoolean(TableAccountStore.PendingColumn) ?? false))
            .Select(r => r.GetString("AccountId")).ToHashSet();
        return keyed.Where(id => !accountIds.Contains(id ?? "")).Select(id => $"a key of {id}, which has no account")
            .Concat(accountIds.Where(id => !keyed.Contains(id) && !claimed.Contains(id)).Select(id => $"account {id} without a key or a pending claim"))
            .ToList();
    }

    static Account NewAccount(string email, DateTimeOffset at) =>
        new(Ids.NewAccountId(), "Crash test", email, 5, at);
}
