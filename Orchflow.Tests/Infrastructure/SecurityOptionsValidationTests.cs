using System.Security.Cryptography;
using Orchflow.Infrastructure;

namespace Orchflow.Tests.Infrastructure;

/// <summary>Orchflow:Security at start-up: what is required where, checked at once, and never quoted.</summary>
[TestFixture]
public sealed class SecurityOptionsValidationTests
{
    readonly SecurityOptionsValidation validation = new();

    [Test]
    public void Validate_DevelopmentWithNoKeys_Succeeds() =>
        Assert.That(validation.Errors(new SecurityOptions { AllowDevelopmentKeys = true }), Is.Empty);

    [Test]
    public void Validate_BothKeysGiven_Succeeds() =>
        Assert.That(validation.Errors(new SecurityOptions { ApiKeyPepper = "pepper", SecretsKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) }), Is.Empty);

    [Test]
    public void Validate_KeyVaultInUseAndNoSecretsKey_Succeeds() =>
        Assert.That(validation.Errors(new SecurityOptions { ApiKeyPepper = "pepper", UsesLocalSecretStore = false }), Is.Empty);

    [Test]
    public void Validate_OutsideDevelopmentWithNoKeys_ReportsBoth()
    {
        var errors = validation.Errors(new SecurityOptions());

        Assert.That(errors.Select(e => e.Split(' ')[0]), Is.EqualTo(new[] { "Orchflow:Security:ApiKeyPepper", "Orchflow:Security:SecretsKey" }));
    }

    [TestCase("not base64!")]
    [TestCase("c2hvcnQ=")]
    public void Validate_SecretsKeyNot32BytesOfBase64_FailsEvenInDevelopment(string key) =>
        Assert.That(validation.Errors(new SecurityOptions { SecretsKey = key, AllowDevelopmentKeys = true }),
            Is.EqualTo(new[] { "Orchflow:Security:SecretsKey must be 32 bytes in base64." }));

    [Test]
    public void Validate_UnresolvedPepperAndMalformedKey_ReportsBothWithoutQuotingThem()
    {
        const string reference = "@Microsoft.KeyVault(VaultName=kv;SecretName=api-key-pepper)";

        var errors = validation.Errors(new SecurityOptions { ApiKeyPepper = reference, SecretsKey = "short" });

        Assert.Multiple(() =>
        {
            Assert.That(errors.Select(e => e.Split(' ')[0]), Is.EqualTo(new[] { "Orchflow:Security:ApiKeyPepper", "Orchflow:Security:SecretsKey" }));
            Assert.That(string.Join('\n', errors), Does.Not.Contain(reference).And.Not.Contain("short"));
        });
    }
}
