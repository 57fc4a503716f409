using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Models;

namespace Orchflow.Tests.Infrastructure;

/// <summary>Settings that stop the host at start-up, with a message naming them, instead of failing its first request.</summary>
[TestFixture]
public sealed class StartupSettingsTests
{
    const string Unresolved = "@Microsoft.KeyVault(VaultName=orchflow-kv;SecretName=api-key-pepper)";

    [Test]
    public void Start_PepperIsAnUnresolvedKeyVaultReference_FailsNamingTheSetting()
    {
        using var services = SecretStoreSelectionTests.Build(isDevelopment: false,
            ("Orchflow:Secrets:VaultUri", "https://orchflow-kv.vault.azure.net/"), ("Orchflow:Security:ApiKeyPepper", Unresolved));

        var e = Assert.Throws<OptionsValidationException>(services.GetRequiredService<IStartupValidator>().Validate);

        Assert.That(e!.Message, Does.Contain("Orchflow:Security:ApiKeyPepper").And.Contain("unresolved Key Vault reference"));
    }

    [Test]
    public void Start_ManagedModelKeyIsAnUnresolvedKeyVaultReference_FailsNamingTheSetting()
    {
        using var services = SecretStoreSelectionTests.Build(isDevelopment: true,
            ("Orchflow:ManagedModel:Provider", "openai"), ("Orchflow:ManagedModel:Model", "gpt-4o-mini"),
            ("Orchflow:ManagedModel:ApiKey", Unresolved.Replace("api-key-pepper", "managed-model-api-key")));

        var e = Assert.Throws<OptionsValidationException>(services.GetRequiredService<IStartupValidator>().Validate);

        Assert.That(e!.Message, Does.Contain("Orchflow:ManagedModel:ApiKey").And.Contain("unresolved Key Vault reference"));
    }

    [Test]
    public void Start_NoManagedProviderWithAnUnresolvedKey_StartsOnTheSimulatedModel()
    {
        using var services = SecretStoreSelectionTests.Build(isDevelopment: true, ("Orchflow:ManagedModel:ApiKey", Unresolved));

        Assert.DoesNotThrow(services.GetRequiredService<IStartupValidator>().Validate);
        Assert.That(services.GetRequiredService<IOptions<ManagedModelOptions>>().Value.IsConfigured, Is.False);
    }

    [TestCase("mistral", "m", "k", null, "Provider must be one of")]
    [TestCase("openai", "", "k", null, "Model is required")]
    [TestCase("openai", "m", "", null, "ApiKey is required")]
    [TestCase("azure_openai", "deployment", "k", null, "Endpoint must be an absolute URL for azure_openai")]
    [TestCase("openai_compatible", "m", "k", "not a url", "Endpoint must be an absolute URL")]
    public void Start_IncompleteManagedModel_FailsSayingWhatIsMissing(string provider, string model, string key, string? endpoint, string expected)
    {
        using var services = SecretStoreSelectionTests.Build(isDevelopment: true,
            ("Orchflow:ManagedModel:Provider", provider), ("Orchflow:ManagedModel:Model", model),
            ("Orchflow:ManagedModel:ApiKey", key), ("Orchflow:ManagedModel:Endpoint", endpoint));

        var e = Assert.Throws<OptionsValidationException>(services.GetRequiredService<IStartupValidator>().Validate);

        Assert.That(e!.Message, Does.Contain("Orchflow:ManagedModel").And.Contain(expected));
    }

    [Test]
    public async Task RunModel_ManagedModelConfigured_IsTheChatModelOnThatProvider()
    {
        using var services = SecretStoreSelectionTests.Build(isDevelopment: true,
            ("Orchflow:ManagedModel:Provider", "gemini"), ("Orchflow:ManagedModel:Model", "gemini-2.0-flash-lite"),
            ("Orchflow:ManagedModel:ApiKey", "managed-key"));

        var model = await services.GetRequiredService<IRunModelFactory>().ForRunAsync("acc_x", providerId: null, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(model, Is.InstanceOf<ChatRunModel>());
            Assert.That(model.Name, Is.EqualTo("gemini:gemini-2.0-flash-lite"));
        });
    }

    [Test]
    public async Task RunModel_NoManagedModel_IsTheSimulatedModel()
    {
        using var services = SecretStoreSelectionTests.Build(isDevelopment: true);

        var model = await services.GetRequiredService<IRunModelFactory>().ForRunAsync("acc_x", providerId: null, CancellationToken.None);

        Assert.That(model, Is.InstanceOf<SimulatedRunModel>());
    }

    [TestCase(-1, 4)]
    [TestCase(0, 4)]
    [TestCase(120, 0)]
    public void Start_ModelLimitsOutOfRange_FailNamingTheSection(int timeoutSeconds, int maxAttempts)
    {
        using var services = SecretStoreSelectionTests.Build(isDevelopment: true,
            ("Orchflow:Models:RequestTimeoutSeconds", timeoutSeconds.ToString()), ("Orchflow:Models:MaxAttempts", maxAttempts.ToString()));

        var e = Assert.Throws<OptionsValidationException>(services.GetRequiredService<IStartupValidator>().Validate);

        Assert.That(e!.Message, Does.Contain("Orchflow:Models"));
    }
}
