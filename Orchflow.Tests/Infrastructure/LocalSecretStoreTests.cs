using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Orchflow.Infrastructure;
using Orchflow.Infrastructure.Secrets;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>The local, envelope-encrypted secret store on Table Storage (Azurite).</summary>
[TestFixture]
public sealed class LocalSecretStoreTests
{
    const string Partition = "secret";

    string prefix = null!;
    OrchflowTables tables = null!;
    string key = null!;
    LocalSecretStore store = null!;

    [OneTimeSetUp]
    public void CreateStore()
    {
        prefix = StorageFixture.NewTablePrefix();
        tables = StorageFixture.NewTables(prefix);
        key = NewKey();
        store = StoreWith(new SecurityOptions { SecretsKey = key });
    }

    [Test]
    public async Task SetAsync_ThenGetAsync_ReturnsTheValue()
    {
        var name = NewName();
        const string value = "sk-test-Ünïcode-€-😀-1234567890";

        await store.SetAsync(name, value, CancellationToken.None);

        Assert.That(await store.GetAsync(name, CancellationToken.None), Is.EqualTo(value));
    }

    [Test]
    public async Task GetAsync_UnknownName_ReturnsNull() =>
        Assert.That(await store.GetAsync(NewName(), CancellationToken.None), Is.Null);

    [Test]
    public async Task SetAsync_RawRow_ContainsNoPlaintext()
    {
        var name = NewName();
        var value = "sk-live-" + Guid.NewGuid().ToString("N");
        await store.SetAsync(name, value, CancellationToken.None);

        var row = (await RawTable().GetEntityAsync<TableEntity>(Partition, name)).Value;

        var plain = Encoding.UTF8.GetBytes(value);
        var properties = row.Where(p => p.Key is not ("odata.etag" or "PartitionKey" or "RowKey" or "Timestamp")).ToList();
        Assert.That(properties.Select(p => p.Key), Does.Contain("Ciphertext"), "precondition: the row was read");
        Assert.Multiple(() =>
        {
            foreach (var (property, content) in properties)
            {
                switch (content)
                {
                    case byte[] bytes:
                        Assert.That(bytes.AsSpan().IndexOf(plain), Is.EqualTo(-1), $"{property} holds the plaintext bytes");
                        Assert.That(Encoding.UTF8.GetString(bytes), Does.Not.Contain(value), $"{property} holds the plaintext");
                        break;
                    default:
                        Assert.That(Convert.ToString(content), Does.Not.Contain(value), $"{property} holds the plaintext");
                        break;
                }
            }

            Assert.That(row.GetBinary("Ciphertext"), Has.Length.EqualTo(plain.Length));
        });
    }

    [Test]
    public async Task SetAsync_SameValueTwice_UsesDifferentNoncesAndCiphertexts()
    {
        var (first, second) = (NewName(), NewName());
        const string value = "the same provider key";
        await store.SetAsync(first, value, CancellationToken.None);
        await store.SetAsync(second, value, CancellationToken.None);

        var a = (await RawTable().GetEntityAsync<TableEntity>(Partition, first)).Value;
        var b = (await RawTable().GetEntityAsync<TableEntity>(Partition, second)).Value;

        Assert.Multiple(() =>
        {
            Assert.That(a.GetBinary("Nonce"), Is.Not.EqualTo(b.GetBinary("Nonce")));
            Assert.That(a.GetBinary("Ciphertext"), Is.Not.EqualTo(b.GetBinary("Ciphertext")));
        });
    }

    [Test]
    public async Task GetAsync_CiphertextCopiedToAnotherName_FailsToDecrypt()
    {
        var (original, copy) = (NewName(), NewName());
        await store.SetAsync(original, "victim's key", CancellationToken.None);
        await store.SetAsync(copy, "attacker's key", CancellationToken.None);
        var row = (await RawTable().GetEntityAsync<TableEntity>(Partition, original)).Value;

        await RawTable().UpsertEntityAsync(
            new TableEntity(Partition, copy)
            {
                ["Nonce"] = row.GetBinary("Nonce"),
                ["Ciphertext"] = row.GetBinary("Ciphertext"),
                ["Tag"] = row.GetBinary("Tag"),
            },
            TableUpdateMode.Replace);

        Assert.ThrowsAsync(Is.InstanceOf<CryptographicException>(), () => store.GetAsync(copy, CancellationToken.None));
        Assert.That(await store.GetAsync(original, CancellationToken.None), Is.EqualTo("victim's key"), "the original still decrypts");
    }

    [Test]
    public async Task DeleteAsync_RemovesTheSecret()
    {
        var name = NewName();
        await store.SetAsync(name, "to be deleted", CancellationToken.None);

        await store.DeleteAsync(name, CancellationToken.None);

        var raw = await RawTable().GetEntityIfExistsAsync<TableEntity>(Partition, name);
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await store.GetAsync(name, CancellationToken.None), Is.Null);
            Assert.That(raw.HasValue, Is.False, "the row is gone");
        });
    }

    [Test]
    public async Task GetAsync_StoreWithAnotherKey_CannotReadTheSecret()
    {
        var name = NewName();
        await store.SetAsync(name, "configured-key secret", CancellationToken.None);

        var sameKey = StoreWith(new SecurityOptions { SecretsKey = key });
        var otherKey = StoreWith(new SecurityOptions { SecretsKey = NewKey() });
        // A configured key wins over the development key, even where development keys are allowed.
        var developmentKey = StoreWith(new SecurityOptions { AllowDevelopmentKeys = true });

        Assert.That(await sameKey.GetAsync(name, CancellationToken.None), Is.EqualTo("configured-key secret"));
        Assert.ThrowsAsync(Is.InstanceOf<CryptographicException>(), () => otherKey.GetAsync(name, CancellationToken.None));
        Assert.ThrowsAsync(Is.InstanceOf<CryptographicException>(), () => developmentKey.GetAsync(name, CancellationToken.None));
    }

    LocalSecretStore StoreWith(SecurityOptions options) => new(tables, Options.Create(options));

    TableClient RawTable() => new(TestEnvironment.Azurite.ConnectionString, prefix + "Secrets");

    static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    static string NewName() => "prv-" + Guid.NewGuid().ToString("N");
}
