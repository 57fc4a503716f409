using Microsoft.Extensions.Options;

namespace Orchflow.Infrastructure.Secrets;

/// <summary>Checks <see cref="SecretsOptions"/> at start-up.</summary>
public sealed class SecretsOptionsValidation : IValidateOptions<SecretsOptions>
{
    public ValidateOptionsResult Validate(string? name, SecretsOptions options)
    {
        var errors = new SettingErrors(SecretsOptions.Section);
        if (options.UsesKeyVault && !SecretsOptions.TryVaultEndpoint(options.VaultUri, out _))
        {
            errors.Add(nameof(options.VaultUri), $"must be an absolute https URL such as https://my-vault.vault.azure.net/, not '{options.VaultUri}'.");
        }

        return errors.Result();
    }
}
