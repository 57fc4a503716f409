using System.Security.Cryptography;
using System.Text;

namespace Orchflow.Infrastructure;

/// <summary>Server-side secrets (section <c>Orchflow:Security</c>): the API key pepper and the local secrets key.</summary>
public sealed class SecurityOptions
{
    public const string Section = "Orchflow:Security";

    /// <summary>HMAC key for API key hashes. Required outside development.</summary>
    public string? ApiKeyPepper { get; set; }

    /// <summary>Base64 of 32 bytes: the AES-256 key of the local secret store. Required outside development when that store is used.</summary>
    public string? SecretsKey { get; set; }

    /// <summary>Set by the host in development: fills in fixed, well-known keys so a local run needs no setup.</summary>
    public bool AllowDevelopmentKeys { get; set; }

    /// <summary>Set from <c>Orchflow:Secrets</c>: false when provider keys live in Key Vault and no local key is needed.</summary>
    public bool UsesLocalSecretStore { get; set; } = true;

    /// <summary>The settings filled in with the fixed development values, which anyone can read in this code: none outside Development.</summary>
    public IReadOnlyList<string> DevelopmentKeysInUse()
    {
        var used = new List<string>();
        if (AllowDevelopmentKeys && string.IsNullOrEmpty(ApiKeyPepper))
        {
            used.Add($"{Section}:{nameof(ApiKeyPepper)}");
        }

        if (AllowDevelopmentKeys && UsesLocalSecretStore && string.IsNullOrEmpty(SecretsKey))
        {
            used.Add($"{Section}:{nameof(SecretsKey)}");
        }

        return used;
    }

    public byte[] PepperBytes() =>
        !string.IsNullOrEmpty(ApiKeyPepper) ? Encoding.UTF8.GetBytes(ApiKeyPepper)
        : AllowDevelopmentKeys ? SHA256.HashData("orchflow-development-pepper"u8)
        : throw new InvalidOperationException($"Set {Section}:ApiKeyPepper.");

    public byte[] SecretsKeyBytes()
    {
        if (!string.IsNullOrEmpty(SecretsKey))
        {
            var key = Convert.FromBase64String(SecretsKey);
            return key.Length == 32 ? key : throw new InvalidOperationException($"{Section}:SecretsKey must be 32 bytes in base64.");
        }

        return AllowDevelopmentKeys
            ? SHA256.HashData("orchflow-development-secrets-key"u8)
            : throw new InvalidOperationException($"Set {Section}:SecretsKey (base64 of 32 random bytes).");
    }
}
