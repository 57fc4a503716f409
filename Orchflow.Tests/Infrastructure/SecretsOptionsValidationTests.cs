using Orchflow.Infrastructure.Secrets;

namespace Orchflow.Tests.Infrastructure;

/// <summary>Orchflow:Secrets at start-up: no vault is the local store; a vault must be an https address.</summary>
[TestFixture]
public sealed class SecretsOptionsValidationTests
{
    readonly SecretsOptionsValidation validation = new();

    [TestCase(null)]
    [TestCase("  ")]
    [TestCase("https://orchflow-kv.vault.azure.net/")]
    public void Validate_NoVaultOrAnHttpsOne_Succeeds(string? vaultUri) =>
        Assert.That(validation.Errors(new SecretsOptions { VaultUri = vaultUri }), Is.Empty);

    [TestCase("http://orchflow-kv.vault.azure.net/")]
    [TestCase("orchflow-kv.vault.azure.net")]
    public void Validate_VaultThatIsNoHttpsUrl_FailsNamingTheSetting(string vaultUri) =>
        Assert.That(validation.Errors(new SecretsOptions { VaultUri = vaultUri }), Is.EqualTo(new[]
        {
            $"Orchflow:Secrets:VaultUri must be an absolute https URL such as https://my-vault.vault.azure.net/, not '{vaultUri}'.",
        }));
}
