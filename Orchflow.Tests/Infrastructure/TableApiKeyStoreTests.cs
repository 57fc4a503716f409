using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>API keys on Table Storage (Azurite): atomic registration, listing, revocation that never removes the last key.</summary>
[TestFixture]
public sealed class TableApiKeyStoreTests
{
    string prefix = null!;
    OrchflowTables tables = null!;
    TableAccountStore accounts = null!;
    TableApiKeyStore keys = null!;

    [SetUp]
    public void NewTables()
    {
        prefix = StorageFixture.NewTablePrefix();
        tables = StorageFixture.NewTables(prefix);
        accounts = new TableAccountStore(tables);
        keys = new TableApiKeyStore(tables);
    }

    [Test]
    public async Task TryCreateAsync_KeyLookupRowFails_LeavesNoRowOfTheAccountAndTheEmailFree()
    {
        var account = NewAccount();
        var fault = new FailingRequests("POST", "\"PartitionKey\":\"key\"");
        var faulty = new TableAccountStore(fault.Tables(prefix));

        Assert.ThrowsAsync<RequestFailedException>(() => faulty.TryCreateAsync(account, FirstKey(account), NewHash(), CancellationToken.None));
        var left = await RowsAsync();
        var again = await accounts.TryCreateAsync(account, FirstKey(account), NewHash(), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(fault.Failed, Is.EqualTo(1), "the fault hit the last step of registration");
            Assert.That(left, Is.Empty, "every row written before the fault is undone");
            Assert.That(again, Is.True, "the email is free again");
        });
    }

    [Test]
    public async Task TryCreateAsync_KeyListingBatchFails_LeavesNoRowOfTheAccount()
    {
        var account = NewAccount();
        var fault = new FailingRequests("POST", "\"Live\":1");
        var faulty = new TableAccountStore(fault.Tables(prefix));

        Assert.ThrowsAsync<RequestFailedException>(() => faulty.TryCreateAsync(account, FirstKey(account), NewHash(), CancellationToken.None));

        Assert.Multiple(async () =>
        {
            Assert.That(fault.Failed, Is.EqualTo(1));
            Assert.That(await RowsAsync(), Is.Empty);
        });
    }

    [Test]
    public async Task RegisteredAccount_ListsItsFirstKeyAndFindsItByHash()
    {
        var account = NewAccount();
        var hash = NewHash();
        var first = FirstKey(account);
        await accounts.TryCreateAsync(account, first, hash, CancellationToken.None);

        var listed = await keys.ListAsync(account.AccountId, CancellationToken.None);
        var found = await keys.FindAsync(hash, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(listed.Select(k => (k.KeyId, k.Label, k.KeyHint)), Is.EqualTo(new[] { (first.KeyId, first.Label, first.KeyHint) }));
            Assert.That(found?.Account.AccountId, Is.EqualTo(account.AccountId));
            Assert.That(found?.KeyId, Is.EqualTo(first.KeyId));
        });
    }

    [Test]
    public async Task RevokeAsync_TwoLastKeysAtOnce_RevokesOneAndRefusesTheOther()
    {
        var account = NewAccount();
        var firstHash = NewHash();
        await accounts.TryCreateAsync(account, FirstKey(account), firstHash, CancellationToken.None);
        var second = Key(account.AccountId);
        var secondHash = NewHash();
        Assert.That(await keys.TryCreateAsync(second, secondHash, 20, CancellationToken.None), Is.True);
        var ids = (await keys.ListAsync(account.AccountId, CancellationToken.None)).Select(k => k.KeyId).ToList();

        var outcomes = await Task.WhenAll(ids.Select(id => keys.RevokeAsync(account.AccountId, id, CancellationToken.None)));

        var working = new[] { await keys.FindAsync(firstHash, CancellationToken.None), await keys.FindAsync(secondHash, CancellationToken.None) };
        Assert.Multiple(async () =>
        {
            Assert.That(outcomes.Select(o => o.Outcome), Is.EquivalentTo(new[] { RevocationOutcome.Revoked, RevocationOutcome.LastKey }));
            Assert.That(working.Count(w => w is not null), Is.EqualTo(1), "exactly one key still works");
            Assert.That(await keys.ListAsync(account.AccountId, CancellationToken.None), Has.Count.EqualTo(1));
        });
    }

    [Test]
    public async Task RevokeAsync_CutShortAfterTheMark_IsFinishedByRevokingAgain()
    {
        var account = NewAccount();
        await accounts.TryCreateAsync(account, FirstKey(account), NewHash(), CancellationToken.None);
        var spare = Key(account.AccountId);
        var spareHash = NewHash();
        await keys.TryCreateAsync(spare, spareHash, 20, CancellationToken.None);
        // The lookup row's delete is the step after the mark: it fails as a storage outage would.
        var fault = new FailingRequests("DELETE", spareHash);
        var faulty = new TableApiKeyStore(fault.Tables(prefix));

        Assert.ThrowsAsync<RequestFailedException>(() => faulty.RevokeAsync(account.AccountId, spare.KeyId, CancellationToken.None));
        var listedMeanwhile = await keys.ListAsync(account.AccountId, CancellationToken.None);
        var again = await keys.RevokeAsync(account.AccountId, spare.KeyId, CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(listedMeanwhile.Select(k => k.KeyId), Does.Not.Contain(spare.KeyId), "marked revoked: no longer listed");
            Assert.That(again.Outcome, Is.EqualTo(RevocationOutcome.Revoked));
            Assert.That(await keys.FindAsync(spareHash, CancellationToken.None), Is.Null);
            Assert.That((await RowsAsync()).Where(r => r.Contains(spare.KeyId) || r.Contains(spareHash)), Is.Empty);
        });
    }

    [Test]
    public async Task TryCreateAsync_AtTheMaximum_IsRefused()
    {
        var account = NewAccount();
        await accounts.TryCreateAsync(account, FirstKey(account), NewHash(), CancellationToken.None);

        var second = await keys.TryCreateAsync(Key(account.AccountId), NewHash(), 2, CancellationToken.None);
        var third = await keys.TryCreateAsync(Key(account.AccountId), NewHash(), 2, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(second, Is.True);
            Assert.That(third, Is.False);
        });
    }

    [Test]
    public async Task FindAsync_KeyIssuedBeforeKeysHadIds_IsAdoptedListedAndRevocable()
    {
        var account = NewAccount();
        await accounts.TryCreateAsync(account, FirstKey(account), NewHash(), CancellationToken.None);
        // A key row as registration wrote it before this release: no key id, no listed row.
        var legacyHash = NewHash();
        await tables.Accounts.AddEntityAsync(new TableEntity("key", legacyHash) { ["AccountId"] = account.AccountId });

        var found = await keys.FindAsync(legacyHash, CancellationToken.None);
        var listed = await keys.ListAsync(account.AccountId, CancellationToken.None);
        var revoked = await keys.RevokeAsync(account.AccountId, found!.KeyId, CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(found.KeyId, Is.EqualTo(Ids.AdoptedKeyId(legacyHash)));
            Assert.That(listed.Select(k => k.KeyId), Does.Contain(found.KeyId));
            Assert.That(revoked.Outcome, Is.EqualTo(RevocationOutcome.Revoked));
            Assert.That(await keys.FindAsync(legacyHash, CancellationToken.None), Is.Null);
        });
    }

    async Task<List<string>> RowsAsync()
    {
        var rows = new List<string>();
        await foreach (var row in tables.Accounts.QueryAsync<TableEntity>())
        {
            rows.Add($"{row.PartitionKey} | {row.RowKey} | {string.Join(",", row.Select(p => p.Value))}");
        }

        return rows;
    }

    internal static ApiKeyRecord FirstKey(Account account) => new(account.AccountId, Ids.NewKeyId(), "Registration", "…test", account.CreatedAt);

    static ApiKeyRecord Key(string accountId) => new(accountId, Ids.NewKeyId(), "spare", "…abcd", DateTimeOffset.UtcNow);

    static Account NewAccount() => new(Ids.NewAccountId(), "Test user", $"{Guid.NewGuid():N}@example.com", 5, DateTimeOffset.UtcNow);

    internal static string NewHash() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
}
