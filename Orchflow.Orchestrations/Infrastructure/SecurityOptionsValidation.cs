using Microsoft.Extensions.Options;
using Orchflow.Infrastructure.Secrets;

namespace Orchflow.Infrastructure;

/// <summary>
/// Checks <see cref="SecurityOptions"/> at start-up, so a missing or malformed key stops the host instead of failing its
/// first request. Values are never quoted in the messages: they are secrets.
/// </summary>
public sealed class SecurityOptionsValidation : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        var errors = new SettingErrors(SecurityOptions.Section);
        errors.Resolved(nameof(options.ApiKeyPepper), options.ApiKeyPepper);
        if (string.IsNullOrEmpty(options.ApiKeyPepper) && !options.AllowDevelopmentKeys)
        {
            errors.Add(nameof(options.ApiKeyPepper), "is required outside Development: the HMAC key of API key hashes.");
        }

        if (options.UsesLocalSecretStore)
        {
            if (!string.IsNullOrEmpty(options.SecretsKey))
            {
                if (!IsBase64Of32Bytes(options.SecretsKey))
                {
                    errors.Add(nameof(options.SecretsKey), "must be 32 bytes in base64.");
                }
            }
            else if (!options.AllowDevelopmentKeys)
            {
                errors.Add(nameof(options.SecretsKey), $"is required outside Development when {SecretsOptions.Section}:VaultUri is not set: base64 of 32 random bytes.");
            }
        }

        return errors.Result();
    }

    static bool IsBase64Of32Bytes(string value)
    {
        Span<byte> bytes = stackalloc byte[33];
        return Convert.TryFromBase64String(value, bytes, out var written) && written == 32;
    }
}
