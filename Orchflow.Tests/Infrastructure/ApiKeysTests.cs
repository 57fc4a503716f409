using Microsoft.Extensions.Options;
using Orchflow.Accounts;
using Orchflow.Infrastructure;

namespace Orchflow.Tests.Infrastructure;

/// <summary>API key issuing and the keyed hash that is all the store keeps of a key.</summary>
[TestFixture]
public sealed class ApiKeysTests
{
    const string Base64UrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    [Test]
    public void NewKey_IsPrefixedBase64UrlOfAtLeast32Bytes_AndWellFormed()
    {
        var key = ApiKeys.NewKey();

        var body = key[ApiKeys.Prefix.Length..];
        Assert.Multiple(() =>
        {
            Assert.That(key, Does.StartWith("orch_"));
            Assert.That(body, Has.Length.GreaterThanOrEqualTo(43), "32 random bytes are 43 base64url characters");
            Assert.That(body.All(c => Base64UrlAlphabet.Contains(c)), Is.True, $"'{body}' is not base64url without padding");
            Assert.That(ApiKeys.IsWellFormed(key), Is.True);
        });
    }

    [Test]
    public void NewKey_ManyKeys_AreAllDifferent()
    {
        var keys = Enumerable.Range(0, 1000).Select(_ => ApiKeys.NewKey()).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(keys, Is.Unique);
            Assert.That(keys.All(ApiKeys.IsWellFormed), Is.True);
        });
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("orch_")]
    [TestCase("orch_tooShort")]
    [TestCase("ORCH_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ")]
    [TestCase("key_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ")]
    [TestCase("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV")]
    [TestCase("orch_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN+/Q")]
    [TestCase("orch_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ=")]
    [TestCase("orch_abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQ")]
    [TestCase(" orch_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ")]
    [TestCase("orch_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNÖPQ")]
    [TestCase("Bearer orch_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ")]
    public void IsWellFormed_Junk_ReturnsFalse(string? candidate) =>
        Assert.That(ApiKeys.IsWellFormed(candidate), Is.False);

    [Test]
    public void IsWellFormed_OverlongKey_ReturnsFalse() =>
        Assert.That(ApiKeys.IsWellFormed("orch_" + new string('a', 200)), Is.False);

    [Test]
    public void Hash_SameKeyAndPepper_IsDeterministic()
    {
        var key = ApiKeys.NewKey();

        var first = WithPepper("pepper-one").Hash(key);
        var second = WithPepper("pepper-one").Hash(key);

        Assert.Multiple(() =>
        {
            Assert.That(second, Is.EqualTo(first));
            Assert.That(first, Does.Match("^[0-9a-f]{64}$"), "hex of a 256-bit MAC");
            Assert.That(first, Does.Not.Contain(key[ApiKeys.Prefix.Length..]));
        });
    }

    [Test]
    public void Hash_DifferentPepper_GivesADifferentHash()
    {
        var key = ApiKeys.NewKey();

        Assert.That(WithPepper("pepper-two").Hash(key), Is.Not.EqualTo(WithPepper("pepper-one").Hash(key)));
    }

    [Test]
    public void Hash_DifferentKeys_GiveDifferentHashes()
    {
        var keys = WithPepper("pepper-one");

        Assert.That(keys.Hash(ApiKeys.NewKey()), Is.Not.EqualTo(keys.Hash(ApiKeys.NewKey())));
    }

    [Test]
    public void Hash_NoPepperOutsideDevelopment_Throws() =>
        Assert.Throws<InvalidOperationException>(() => new ApiKeys(Options.Create(new SecurityOptions())).Hash(ApiKeys.NewKey()));

    static ApiKeys WithPepper(string pepper) => new(Options.Create(new SecurityOptions { ApiKeyPepper = pepper }));
}
