using System.Security.Cryptography;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Infrastructure;
using Orchflow.Infrastructure.Secrets;

namespace Orchflow.Tests.Infrastructure;

/// <summary>Which secret store the engine's wiring picks from configuration, and what it demands at start-up.</summary>
[TestFixture]
public sealed class SecretStoreSelectionTests
{
    const string VaultUri = "https://orchflow-test.vault.azure.net/";

    [Test]
    public void AddOrchflow_VaultUriSet_ResolvesKeyVaultSecretStore()
    {
        using var services = Build(isDevelopment: false, ("Orchflow:Secrets:VaultUri", VaultUri), ("Orchflow:Security:ApiKeyPepper", "pepper"));

        Assert.Multiple(() =>
        {
            Assert.That(services.GetRequiredService<ISecretStore>(), Is.InstanceOf<CachedSecretStore>().With.Property(nameof(CachedSecretStore.Inner)).InstanceOf<KeyVaultSecretStore>());
            Assert.That(services.GetRequiredService<SecretClient>().VaultUri, Is.EqualTo(new Uri(VaultUri)));
            Assert.That(services.GetRequiredService<ISecretStore>(), Is.SameAs(services.GetRequiredService<ISecretStore>()), "one store per process");
        });
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("   ")]
    public void AddOrchflow_NoVaultUri_ResolvesLocalSecretStore(string? vaultUri)
    {
        using var services = Build(
            isDevelopment: false,
            ("Orchflow:Secrets:VaultUri", vaultUri),
            ("Orchflow:Security:ApiKeyPepper", "pepper"),
            ("Orchflow:Security:SecretsKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))));

        Assert.Multiple(() =>
        {
            Assert.That(services.GetRequiredService<ISecretStore>(), Is.InstanceOf<CachedSecretStore>().With.Property(nameof(CachedSecretStore.Inner)).InstanceOf<LocalSecretStore>());
            Assert.That(services.GetService<SecretClient>(), Is.Null, "no Key Vault client without a vault");
            Assert.That(services.GetRequiredService<IOptions<SecurityOptions>>().Value.UsesLocalSecretStore, Is.True);
            Assert.DoesNotThrow(services.GetRequiredService<IStartupValidator>().Validate);
        });
    }

    [Test]
    public void AddOrchflow_InDevelopmentWithNoKeys_ResolvesLocalSecretStoreWithTheDevelopmentKey()
    {
        using var services = Build(isDevelopment: true);

        Assert.Multiple(() =>
        {
            Assert.That(services.GetRequiredService<ISecretStore>(), Is.InstanceOf<CachedSecretStore>().With.Property(nameof(CachedSecretStore.Inner)).InstanceOf<LocalSecretStore>());
            Assert.DoesNotThrow(services.GetRequiredService<IStartupValidator>().Validate);
        });
    }

    [Test]
    public void AddOrchflow_OutsideDevelopmentWithLocalStoreAndNoSecretsKey_FailsAtStartNamingSecretsKey()
    {
        using var services = Build(isDevelopment: false, ("Orchflow:Security:ApiKeyPepper", "pepper"));

        var atStart = Assert.Throws<OptionsValidationException>(services.GetRequiredService<IStartupValidator>().Validate);
        var onRead = Assert.Throws<OptionsValidationException>(() => _ = services.GetRequiredService<IOptions<SecurityOptions>>().Value);

        Assert.Multiple(() =>
        {
            Assert.That(atStart!.Message, Does.Contain("Orchflow:Security:SecretsKey"));
            Assert.That(onRead!.Message, Does.Contain("Orchflow:Security:SecretsKey"));
        });
    }

    [Test]
    public void AddOrchflow_OutsideDevelopmentWithVaultUriAndNoSecretsKey_Starts()
    {
        using var services = Build(isDevelopment: false, ("Orchflow:Secrets:VaultUri", VaultUri), ("Orchflow:Security:ApiKeyPepper", "pepper"));

        Assert.DoesNotThrow(services.GetRequiredService<IStartupValidator>().Validate);
        var security = services.GetRequiredService<IOptions<SecurityOptions>>().Value;
        Assert.Multiple(() =>
        {
            Assert.That(security.UsesLocalSecretStore, Is.False);
            Assert.That(security.SecretsKey, Is.Null, "precondition: no local key configured");
        });
    }

    [Test]
    public void AddOrchflow_OutsideDevelopmentWithVaultUriAndNoPepper_StillFailsAtStart()
    {
        using var services = Build(isDevelopment: false, ("Orchflow:Secrets:VaultUri", VaultUri));

        var e = Assert.Throws<OptionsValidationException>(services.GetRequiredService<IStartupValidator>().Validate);

        Assert.That(e!.Message, Does.Contain("ApiKeyPepper"));
    }

    [TestCase("http://orchflow-test.vault.azure.net/")]
    [TestCase("orchflow-test.vault.azure.net")]
    [TestCase("/vaults/orchflow-test")]
    [TestCase("not a uri")]
    public void AddOrchflow_MalformedVaultUri_FailsAtStartWithAClearMessage(string vaultUri)
    {
        using var services = Build(isDevelopment: true, ("Orchflow:Secrets:VaultUri", vaultUri));

        var atStart = Assert.Throws<OptionsValidationException>(services.GetRequiredService<IStartupValidator>().Validate);
        var onResolve = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<ISecretStore>());

        Assert.Multiple(() =>
        {
            Assert.That(atStart!.Message, Does.Contain("Orchflow:Secrets:VaultUri").And.Contain("absolute https URL"));
            Assert.That(onResolve!.Message, Does.Contain("Orchflow:Secrets:VaultUri"));
        });
    }

    /// <summary>The engine's services from in-memory settings, as a host would build them.</summary>
    internal static ServiceProvider Build(bool isDevelopment, params (string Key, string? Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(
                settings.Select(s => KeyValuePair.Create(s.Key, s.Value))
                    // Constructing the table client opens no connection, so no storage needs to be running.
                    .Append(KeyValuePair.Create("Orchflow:Storage:ConnectionString", (string?)"UseDevelopmentStorage=true")))
            .Build();
        return new ServiceCollection()
            .AddLogging()
            .AddOrchflow(configuration, isDevelopment)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }
}
