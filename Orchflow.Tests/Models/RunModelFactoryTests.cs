using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Infrastructure;
using Orchflow.Infrastructure.Network;
using Orchflow.Infrastructure.Secrets;
using Orchflow.Infrastructure.Storage;
using Orchflow.Models;
using Orchflow.Tests.Infrastructure;

namespace Orchflow.Tests.Models;

/// <summary>How a run's model is found for a registered provider, on the real provider and secret stores (Azurite).</summary>
[TestFixture]
public sealed class RunModelFactoryTests
{
    TableProviderStore providers = null!;
    CountingSecrets secrets = null!;
    ModelHttp http = null!;

    [SetUp]
    public void CreateStores()
    {
        var tables = StorageFixture.NewTables();
        providers = new TableProviderStore(tables);
        secrets = new CountingSecrets(new LocalSecretStore(tables, Options.Create(new SecurityOptions { AllowDevelopmentKeys = true })));
        http = new ModelHttp(Options.Create(new ModelOptions()), AddressPolicy.Loopback());
    }

    [TearDown]
    public void DisposeHttp() => http.Dispose();

    [Test]
    public async Task ForRunAsync_SameProviderTwice_ReadsItsKeyOnceAndNamesTheModel()
    {
        var provider = await RegisterAsync();
        var factory = Factory();

        var first = await factory.ForRunAsync(provider.AccountId, provider.ProviderId, CancellationToken.None);
        var second = await factory.ForRunAsync(provider.AccountId, provider.ProviderId, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(first.Name, Is.EqualTo("openai_compatible:llama3.1:8b"));
            Assert.That(second.Name, Is.EqualTo(first.Name));
            Assert.That(secrets.Reads, Is.EqualTo(1), "the secret store's cache answers the second time");
        });
    }

    [Test]
    public async Task ForRunAsync_ProviderDeletedAfterItsKeyWasRead_FailsAtOnceTellingToRegisterAgain()
    {
        var provider = await RegisterAsync();
        var factory = Factory();
        await factory.ForRunAsync(provider.AccountId, provider.ProviderId, CancellationToken.None);

        await providers.DeleteAsync(provider.AccountId, provider.ProviderId, CancellationToken.None);
        var e = Assert.ThrowsAsync<ModelProviderException>(() => factory.ForRunAsync(provider.AccountId, provider.ProviderId, CancellationToken.None));

        Assert.That(e!.Message, Does.Contain(provider.ProviderId).And.Contain("register it again"));
    }

    [Test]
    public async Task ForRunAsync_SecretMissing_FailsSayingTheKeyIsMissing()
    {
        var provider = await RegisterAsync();
        await secrets.DeleteAsync(provider.SecretName, CancellationToken.None);
        var factory = Factory();

        var e = Assert.ThrowsAsync<ModelProviderException>(() => factory.ForRunAsync(provider.AccountId, provider.ProviderId, CancellationToken.None));

        Assert.That(e!.Message, Does.Contain("key of provider").And.Contain("missing"));
    }

    [Test]
    public async Task ForRunAsync_AnotherAccountsProvider_IsNotFound()
    {
        var provider = await RegisterAsync();
        var factory = Factory();

        var e = Assert.ThrowsAsync<ModelProviderException>(() => factory.ForRunAsync("acc_someoneelse", provider.ProviderId, CancellationToken.None));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain(provider.ProviderId));
            Assert.That(secrets.Reads, Is.Zero, "another account's key is never read");
        });
    }

    async Task<ProviderRecord> RegisterAsync()
    {
        var id = "prv_" + Guid.NewGuid().ToString("N")[..16];
        var account = "acc_" + Guid.NewGuid().ToString("N")[..20];
        var record = new ProviderRecord(account, id, "openai_compatible", "Local", "llama3.1:8b", "http://127.0.0.1:11434/v1", "…1234",
            $"provider-{account}-{id}".Replace('_', '-'), DateTimeOffset.UtcNow);
        await secrets.SetAsync(record.SecretName, "sk-factory-1234", CancellationToken.None);
        Assert.That(await providers.TryCreateAsync(record, 20, CancellationToken.None), Is.True);
        return record;
    }

    RunModelFactory Factory()
    {
        var options = Options.Create(new ModelOptions());
        return new RunModelFactory(
            providers, new CachedSecretStore(secrets, TimeProvider.System), new SimulatedRunModel(Options.Create(new SimulatedModelOptions()), TimeProvider.System), http,
            new ModelCallPolicy(options, TimeProvider.System, NullLogger<ModelCallPolicy>.Instance), options,
            Options.Create(new ManagedModelOptions()));
    }

    /// <summary>The real store, counting the reads that reach it.</summary>
    sealed class CountingSecrets(ISecretStore inner) : ISecretStore
    {
        int reads;

        public int Reads => reads;

        public Task SetAsync(string name, string value, CancellationToken cancellationToken) => inner.SetAsync(name, value, cancellationToken);

        public Task<string?> GetAsync(string name, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref reads);
            return inner.GetAsync(name, cancellationToken);
        }

        public Task DeleteAsync(string name, CancellationToken cancellationToken) => inner.DeleteAsync(name, cancellationToken);
    }
}
