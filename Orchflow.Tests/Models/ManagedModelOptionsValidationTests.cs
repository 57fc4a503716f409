using Orchflow.Models;

namespace Orchflow.Tests.Models;

/// <summary>Orchflow:ManagedModel at start-up: unset is the simulated model; once a provider is named, all it lacks is said at once.</summary>
[TestFixture]
public sealed class ManagedModelOptionsValidationTests
{
    readonly ManagedModelOptionsValidation validation = new();

    [Test]
    public void Validate_Defaults_Succeeds() => Assert.That(validation.Errors(new ManagedModelOptions()), Is.Empty);

    [Test]
    public void Validate_NoProviderWithAnUnresolvedKey_Succeeds() =>
        Assert.That(validation.Errors(new ManagedModelOptions { ApiKey = "@Microsoft.KeyVault(SecretName=x)" }), Is.Empty);

    [TestCase("openai", null)]
    [TestCase("azure_openai", "https://res.openai.azure.com/")]
    [TestCase("openai_compatible", "http://localhost:11434/v1")]
    public void Validate_Complete_Succeeds(string provider, string? endpoint) =>
        Assert.That(validation.Errors(new ManagedModelOptions { Provider = provider, Model = "m", ApiKey = "k", Endpoint = endpoint }), Is.Empty);

    [Test]
    public void Validate_UnknownProviderWithNothingElse_ReportsEachMissingSetting()
    {
        var errors = validation.Errors(new ManagedModelOptions { Provider = "mistral", Endpoint = "not a url" });

        Assert.That(errors, Is.EqualTo(new[]
        {
            "Orchflow:ManagedModel:Provider must be one of: openai, azure_openai, gemini, anthropic, openai_compatible.",
            "Orchflow:ManagedModel:Model is required.",
            "Orchflow:ManagedModel:ApiKey is required.",
            "Orchflow:ManagedModel:Endpoint must be an absolute URL, not 'not a url'.",
        }));
    }

    [Test]
    public void Validate_UnresolvedKeyAndNoEndpointWhereOneIsNeeded_ReportsBothWithoutQuotingTheKey()
    {
        const string reference = "@Microsoft.KeyVault(VaultName=kv;SecretName=managed-model-api-key)";

        var errors = validation.Errors(new ManagedModelOptions { Provider = "azure_openai", Model = "deployment", ApiKey = reference });

        Assert.Multiple(() =>
        {
            Assert.That(errors, Has.Count.EqualTo(2));
            Assert.That(errors[0], Does.StartWith("Orchflow:ManagedModel:ApiKey is an unresolved Key Vault reference"));
            Assert.That(errors[1], Is.EqualTo("Orchflow:ManagedModel:Endpoint must be an absolute URL for azure_openai."));
            Assert.That(string.Join('\n', errors), Does.Not.Contain(reference));
        });
    }
}
