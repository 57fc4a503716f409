using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>Accounts on Table Storage (Azurite): lookup by key hash, unique emails, and the trial allowance under contention.</summary>
[TestFixture]
public sealed class TableAccountStoreTests
{
    TableAccountStore store = null!;

    [OneTimeSetUp]
    public void CreateStore() => store = new TableAccountStore(StorageFixture.NewTables());

    [Test]
    public async Task TryCreateAsync_NewAccount_IsFoundByItsKeyHash()
    {
        var account = NewAccount();
        var hash = NewHash();

        var created = await TryCreateAsync(account, hash, CancellationToken.None);
        var found = await store.FindByKeyHashAsync(hash, CancellationToken.None);

        Assert.That(created, Is.True);
        Assert.That(found, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(found!.AccountId, Is.EqualTo(account.AccountId));
            Assert.That(found.Name, Is.EqualTo(account.Name));
            Assert.That(found.Email, Is.EqualTo(account.Email));
            Assert.That(found.TrialRunsRemaining, Is.EqualTo(account.TrialRunsRemaining));
            Assert.That(found.CreatedAt, Is.EqualTo(account.CreatedAt).Within(TimeSpan.FromMilliseconds(1)));
        });
    }

    [Test]
    public async Task TryCreateAsync_SameEmailInOtherCaseWithSpaces_ReturnsFalseAndCreatesNoAccount()
    {
        var local = Guid.NewGuid().ToString("N");
        Assert.That(await TryCreateAsync(NewAccount($"{local}@Example.com"), NewHash(), CancellationToken.None), Is.True);
        var secondHash = NewHash();

        var duplicate = await TryCreateAsync(NewAccount($"  {local.ToUpperInvariant()}@EXAMPLE.COM "), secondHash, CancellationToken.None);

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(duplicate, Is.False);
            Assert.That(await store.FindByKeyHashAsync(secondHash, CancellationToken.None), Is.Null, "the refused account's key must not work");
        });
    }

    [Test]
    public async Task FindByKeyHashAsync_UnknownHash_ReturnsNull()
    {
        await TryCreateAsync(NewAccount(), NewHash(), CancellationToken.None);

        Assert.That(await store.FindByKeyHashAsync(NewHash(), CancellationToken.None), Is.Null);
    }

    [Test]
    public async Task TryConsumeTrialRunAsync_TwentyConcurrentTakersOfFive_ExactlyFiveSucceed()
    {
        var account = NewAccount(trialRuns: 5);
        var hash = NewHash();
        await TryCreateAsync(account, hash, CancellationToken.None);

        var taken = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            Task.Run(() => store.TryConsumeTrialRunAsync(account.AccountId, CancellationToken.None))));

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(taken.Count(t => t), Is.EqualTo(5));
            Assert.That((await store.FindByKeyHashAsync(hash, CancellationToken.None))!.TrialRunsRemaining, Is.Zero);
            Assert.That(await store.TryConsumeTrialRunAsync(account.AccountId, CancellationToken.None), Is.False);
        });
    }

    [Test]
    public async Task RefundTrialRunAsync_AfterAllAreUsed_GivesExactlyOneBack()
    {
        var account = NewAccount(trialRuns: 1);
        var hash = NewHash();
        await TryCreateAsync(account, hash, CancellationToken.None);
        Assert.That(await store.TryConsumeTrialRunAsync(account.AccountId, CancellationToken.None), Is.True);
        Assert.That(await store.TryConsumeTrialRunAsync(account.AccountId, CancellationToken.None), Is.False);

        await store.RefundTrialRunAsync(account.AccountId, CancellationToken.None);

        var remaining = (await store.FindByKeyHashAsync(hash, CancellationToken.None))!.TrialRunsRemaining;
        var again = await store.TryConsumeTrialRunAsync(account.AccountId, CancellationToken.None);
        var afterThat = await store.TryConsumeTrialRunAsync(account.AccountId, CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(remaining, Is.EqualTo(1));
            Assert.That(again, Is.True);
            Assert.That(afterThat, Is.False);
        });
    }

    Task<bool> TryCreateAsync(Account account, string hash, CancellationToken cancellationToken) =>
        store.TryCreateAsync(account, TableApiKeyStoreTests.FirstKey(account), hash, cancellationToken);

    static Account NewAccount(string? email = null, int trialRuns = 5) =>
        new(Ids.NewAccountId(), "Test user", email ?? $"{Guid.NewGuid():N}@example.com", trialRuns, DateTimeOffset.UtcNow);

    static string NewHash() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
}
