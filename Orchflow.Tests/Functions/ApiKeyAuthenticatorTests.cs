using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Accounts;
using Orchflow.Functions.Http;
using Orchflow.Functions.Http.RateLimiting;
using Orchflow.Infrastructure;
using Orchflow.Infrastructure.Storage;
using Orchflow.Tests.Infrastructure;
using Orchflow.Tests.Models;

namespace Orchflow.Tests.Functions;

/// <summary>Authentication against the key store on Azurite: how often it reads the store, and how long a revoked key lasts.</summary>
[TestFixture]
public sealed class ApiKeyAuthenticatorTests
{
    readonly ApiKeys keys = new(Options.Create(new SecurityOptions { ApiKeyPepper = "test-pepper" }));
    readonly ManualTimeProvider clock = new(DateTimeOffset.UtcNow);
    OrchflowTables tables = null!;
    CountingKeys keyStore = null!;

    [SetUp]
    public void NewStore()
    {
        tables = StorageFixture.NewTables();
        keyStore = new CountingKeys(new TableApiKeyStore(tables));
    }

    [Test]
    public async Task Authenticate_SameKeyTwice_ReadsTheStoreOnceAndFindsTheAccountBothTimes()
    {
        var (key, accountId) = await RegisterAsync();
        using var authenticator = NewAuthenticator();

        var first = Request(key);
        var second = Request(key);
        var results = (await authenticator.AuthenticateAsync(first), await authenticator.AuthenticateAsync(second));

        Assert.Multiple(() =>
        {
            Assert.That(results.Item1, Is.Null);
            Assert.That(results.Item2, Is.Null);
            Assert.That(ApiKeyAuthenticator.CallerOf(first.Request).AccountId, Is.EqualTo(accountId));
            Assert.That(ApiKeyAuthenticator.CallerOf(second.Request).AccountId, Is.EqualTo(accountId));
            Assert.That(keyStore.Reads, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Authenticate_UnknownKeyAgainWithinAMinute_IsRefusedWithoutAnotherRead()
    {
        using var authenticator = NewAuthenticator();
        var key = ApiKeys.NewKey();

        var first = await authenticator.AuthenticateAsync(Request(key));
        var second = await authenticator.AuthenticateAsync(Request(key));
        var readsWithinTheMinute = keyStore.Reads;
        clock.Advance(ApiKeyAuthenticator.RememberMissFor);
        var third = await authenticator.AuthenticateAsync(Request(key));

        Assert.Multiple(() =>
        {
            Assert.That(first?.Status, Is.EqualTo(401));
            Assert.That(second?.Status, Is.EqualTo(401));
            Assert.That(third?.Status, Is.EqualTo(401));
            Assert.That(readsWithinTheMinute, Is.EqualTo(1), "a miss is remembered");
            Assert.That(keyStore.Reads, Is.EqualTo(2), "and read again once the minute is over");
        });
    }

    [Test]
    public async Task Authenticate_IssuedKey_WorksAtOnceEvenAfterOtherKeysMissed()
    {
        using var authenticator = NewAuthenticator();
        await authenticator.AuthenticateAsync(Request(ApiKeys.NewKey()));

        var (key, accountId) = await RegisterAsync();
        var http = Request(key);

        Assert.That(await authenticator.AuthenticateAsync(http), Is.Null);
        Assert.That(ApiKeyAuthenticator.CallerOf(http.Request).AccountId, Is.EqualTo(accountId));
    }

    [Test]
    public async Task Authenticate_FloodOfInventedKeysFromOneAddress_IsRefusedBeforeLookupOncePastTheLimit()
    {
        var (knownKey, accountId) = await RegisterAsync();
        using var authenticator = NewAuthenticator();
        Assert.That(await authenticator.AuthenticateAsync(Request(knownKey, Attacker)), Is.Null, "a working key, read before the flood");
        var readsBefore = keyStore.Reads;

        var answers = new List<ApiResult?>();
        var invented = new List<ApiResult?>();
        for (var i = 0; i < 200; i++)
        {
            // Malformed keys count as failures too, and are refused as malformed: they cost no read.
            var malformed = i % 4 == 0;
            var answer = await authenticator.AuthenticateAsync(Request(malformed ? "orch_short" : ApiKeys.NewKey(), Attacker));
            answers.Add(answer);
            if (!malformed)
            {
                invented.Add(answer);
            }
        }

        var refusedUnread = invented.Where(a => a?.Status == 429).ToList();
        var neighbour = await authenticator.AuthenticateAsync(Request(ApiKeys.NewKey(), Neighbour));
        // Long enough that the key is read again, not so long that it is forgotten.
        clock.Advance(ApiKeyAuthenticator.RememberFor);
        var knownAgain = Request(knownKey, Attacker);
        var knownAnswer = await authenticator.AuthenticateAsync(knownAgain);

        Assert.Multiple(() =>
        {
            Assert.That(answers.Take(FailedPerMinute).Select(a => a?.Status), Is.All.EqualTo(401), "within the limit each invented key is refused as unknown");
            Assert.That(refusedUnread, Has.Count.GreaterThanOrEqualTo(invented.Count - FailedPerMinute), "past it, refused before lookup");
            Assert.That(answers.Select(a => a?.Status), Is.All.AnyOf(401, 429));
            Assert.That(refusedUnread[0]!.Headers["Retry-After"], Does.Match("^[1-9][0-9]*$"));
            Assert.That(keyStore.Reads - readsBefore, Is.LessThanOrEqualTo(FailedPerMinute + 2),
                "the flood read the store at most once per allowed failure, plus the neighbour's and the known key's");
            Assert.That(neighbour?.Status, Is.EqualTo(401), "another address's key is still looked up");
            Assert.That(knownAnswer, Is.Null, "a key that worked here lately is read again from the flooded address, and passes");
            Assert.That(ApiKeyAuthenticator.CallerOf(knownAgain.Request).AccountId, Is.EqualTo(accountId));
        });
    }

    [Test]
    public async Task Authenticate_KeyRevokedThroughAnotherInstance_IsRefusedOnceTheRememberedReadIsOlderThanFiveSeconds()
    {
        var (key, accountId) = await RegisterAsync();
        var (_, spareId) = await IssueAsync(accountId);
        using var thisInstance = NewAuthenticator();
        Assert.That(await thisInstance.AuthenticateAsync(Request(key)), Is.Null);
        var keyId = (await keyStore.ListAsync(accountId, CancellationToken.None)).Single(k => k.KeyId != spareId).KeyId;

        // Revoked by another instance: nothing tells this one.
        var revoked = await keyStore.RevokeAsync(accountId, keyId, CancellationToken.None);
        clock.Advance(ApiKeyAuthenticator.RememberFor - TimeSpan.FromMilliseconds(1));
        var justBefore = await thisInstance.AuthenticateAsync(Request(key));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var at = await thisInstance.AuthenticateAsync(Request(key));

        Assert.Multiple(() =>
        {
            Assert.That(revoked.Outcome, Is.EqualTo(RevocationOutcome.Revoked));
            Assert.That(ApiKeyAuthenticator.RememberFor, Is.LessThanOrEqualTo(TimeSpan.FromSeconds(5)), "the contract: every instance refuses within 5 s");
            Assert.That(justBefore, Is.Null, "within the window the remembered read stands");
            Assert.That(at?.Status, Is.EqualTo(401), "at RememberFor after the read began the key is read again, and refused");
        });
    }

    [Test]
    public async Task Authenticate_KeyThisInstanceForgot_IsRefusedAtOnce()
    {
        var (key, accountId) = await RegisterAsync();
        await IssueAsync(accountId);
        using var authenticator = NewAuthenticator();
        Assert.That(await authenticator.AuthenticateAsync(Request(key)), Is.Null);
        var keyId = (await keyStore.ListAsync(accountId, CancellationToken.None))[0].KeyId;

        var revoked = await keyStore.RevokeAsync(accountId, keyId, CancellationToken.None);
        authenticator.Forget(revoked.KeyHash!);
        var after = await authenticator.AuthenticateAsync(Request(key));

        Assert.That(after?.Status, Is.EqualTo(401));
    }

    [Test]
    public async Task Authenticate_KeyUsed_StampsLastUsedAtOncePerMinute()
    {
        var (key, accountId) = await RegisterAsync();
        using var authenticator = NewAuthenticator();

        await authenticator.AuthenticateAsync(Request(key));
        var first = (await keyStore.ListAsync(accountId, CancellationToken.None))[0].LastUsedAt;
        clock.Advance(TimeSpan.FromSeconds(30));
        await authenticator.AuthenticateAsync(Request(key));
        var second = (await keyStore.ListAsync(accountId, CancellationToken.None))[0].LastUsedAt;
        clock.Advance(TimeSpan.FromSeconds(31));
        await authenticator.AuthenticateAsync(Request(key));
        var third = (await keyStore.ListAsync(accountId, CancellationToken.None))[0].LastUsedAt;

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.Not.Null);
            Assert.That(second, Is.EqualTo(first), "used again within the minute: not written again");
            Assert.That(third, Is.GreaterThan(first!.Value.AddSeconds(60)));
        });
    }

    async Task<(string Key, string AccountId)> RegisterAsync()
    {
        var key = ApiKeys.NewKey();
        var account = new Account("acc_" + Guid.NewGuid().ToString("N")[..20], "n", $"{Guid.NewGuid():N}@example.com", 5, DateTimeOffset.UtcNow);
        var created = await new TableAccountStore(tables).TryCreateAsync(account, TableApiKeyStoreTests.FirstKey(account), keys.Hash(key), CancellationToken.None);
        Assert.That(created, Is.True);
        return (key, account.AccountId);
    }

    async Task<(string Key, string KeyId)> IssueAsync(string accountId)
    {
        var key = ApiKeys.NewKey();
        var record = new ApiKeyRecord(accountId, Orchflow.Domain.Ids.NewKeyId(), "spare", ApiKeys.Hint(key), clock.GetUtcNow());
        Assert.That(await keyStore.TryCreateAsync(record, keys.Hash(key), 20, CancellationToken.None), Is.True);
        return (key, record.KeyId);
    }

    const int FailedPerMinute = 12;
    static readonly IPAddress Attacker = IPAddress.Parse("81.2.69.10");
    static readonly IPAddress Neighbour = IPAddress.Parse("81.2.69.11");
    readonly List<FailedAuthentications> limiters = [];

    ApiKeyAuthenticator NewAuthenticator()
    {
        var options = Options.Create(new RateLimitOptions { FailedAuthPerMinute = FailedPerMinute });
        var failures = new FailedAuthentications(options);
        limiters.Add(failures);
        return new ApiKeyAuthenticator(keyStore, keys, failures, new ClientAddresses(options), clock);
    }

    [TearDown]
    public async Task DisposeLimiters()
    {
        foreach (var limiter in limiters)
        {
            await limiter.DisposeAsync();
        }

        limiters.Clear();
    }

    static DefaultHttpContext Request(string key, IPAddress? from = null)
    {
        var http = new DefaultHttpContext();
        http.Request.Headers[ApiKeyAuthenticator.Header] = key;
        http.Connection.RemoteIpAddress = from ?? IPAddress.Loopback;
        return http;
    }

    /// <summary>The real store, counting the lookups that reach it.</summary>
    sealed class CountingKeys(IApiKeyStore inner) : IApiKeyStore
    {
        int reads;

        public int Reads => reads;

        public Task<KeyHolder?> FindAsync(string apiKeyHash, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref reads);
            return inner.FindAsync(apiKeyHash, cancellationToken);
        }

        public Task<bool> TryCreateAsync(ApiKeyRecord key, string apiKeyHash, int maxPerAccount, CancellationToken cancellationToken) =>
            inner.TryCreateAsync(key, apiKeyHash, maxPerAccount, cancellationToken);

        public Task<IReadOnlyList<ApiKeyRecord>> ListAsync(string accountId, CancellationToken cancellationToken) => inner.ListAsync(accountId, cancellationToken);

        public Task<KeyRevocation> RevokeAsync(string accountId, string keyId, CancellationToken cancellationToken) =>
            inner.RevokeAsync(accountId, keyId, cancellationToken);

        public Task<IReadOnlyList<string>> RevokeAllAsync(string accountId, CancellationToken cancellationToken) =>
            inner.RevokeAllAsync(accountId, cancellationToken);

        public Task TouchAsync(string accountId, string keyId, DateTimeOffset at, CancellationToken cancellationToken) =>
            inner.TouchAsync(accountId, keyId, at, cancellationToken);
    }
}
