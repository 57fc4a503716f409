using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Accounts;
using Orchflow.Functions.Http;
using Orchflow.Infrastructure;
using Orchflow.Infrastructure.Storage;
using Orchflow.Tests.Infrastructure;

namespace Orchflow.Tests.Functions;

/// <summary>Authentication against the account store on Azurite, and how often it reads the store.</summary>
[TestFixture]
public sealed class ApiKeyAuthenticatorTests
{
    readonly ApiKeys keys = new(Options.Create(new SecurityOptions { ApiKeyPepper = "test-pepper" }));
    CountingAccounts accounts = null!;

    [SetUp]
    public void NewStore() =>
        accounts = new CountingAccounts(new TableAccountStore(StorageFixture.NewTables()));

    [Test]
    public async Task Authenticate_SameKeyTwice_ReadsTheStoreOnceAndFindsTheAccountBothTimes()
    {
        var (key, accountId) = await RegisterAsync();
        using var authenticator = new ApiKeyAuthenticator(accounts, keys);

        var first = Request(key);
        var second = Request(key);
        var results = (await authenticator.AuthenticateAsync(first), await authenticator.AuthenticateAsync(second));

        Assert.Multiple(() =>
        {
            Assert.That(results.Item1, Is.Null);
            Assert.That(results.Item2, Is.Null);
            Assert.That(ApiKeyAuthenticator.CallerOf(first.Request).AccountId, Is.EqualTo(accountId));
            Assert.That(ApiKeyAuthenticator.CallerOf(second.Request).AccountId, Is.EqualTo(accountId));
            Assert.That(accounts.Reads, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Authenticate_UnknownKeyTwice_IsRefusedAndReadEachTime()
    {
        using var authenticator = new ApiKeyAuthenticator(accounts, keys);
        var key = ApiKeys.NewKey();

        var first = await authenticator.AuthenticateAsync(Request(key));
        var second = await authenticator.AuthenticateAsync(Request(key));

        Assert.Multiple(() =>
        {
            Assert.That(first?.Status, Is.EqualTo(401));
            Assert.That(second?.Status, Is.EqualTo(401));
            Assert.That(accounts.Reads, Is.EqualTo(2), "an unknown key is never remembered: it may be registered next");
        });
    }

    async Task<(string Key, string AccountId)> RegisterAsync()
    {
        var key = ApiKeys.NewKey();
        var accountId = "acc_" + Guid.NewGuid().ToString("N")[..20];
        var created = await accounts.TryCreateAsync(
            new Account(accountId, "n", $"{Guid.NewGuid():N}@example.com", 5, DateTimeOffset.UtcNow), keys.Hash(key), CancellationToken.None);
        Assert.That(created, Is.True);
        return (key, accountId);
    }

    static DefaultHttpContext Request(string key)
    {
        var http = new DefaultHttpContext();
        http.Request.Headers[ApiKeyAuthenticator.Header] = key;
        return http;
    }

    /// <summary>The real store, counting the lookups that reach it.</summary>
    sealed class CountingAccounts(IAccountStore inner) : IAccountStore
    {
        int reads;

        public int Reads => reads;

        public Task<bool> TryCreateAsync(Account account, string apiKeyHash, CancellationToken cancellationToken) =>
            inner.TryCreateAsync(account, apiKeyHash, cancellationToken);

        public Task<Account?> FindByKeyHashAsync(string apiKeyHash, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref reads);
            return inner.FindByKeyHashAsync(apiKeyHash, cancellationToken);
        }

        public Task<bool> TryConsumeTrialRunAsync(string accountId, CancellationToken cancellationToken) =>
            inner.TryConsumeTrialRunAsync(accountId, cancellationToken);

        public Task RefundTrialRunAsync(string accountId, CancellationToken cancellationToken) =>
            inner.RefundTrialRunAsync(accountId, cancellationToken);
    }
}
