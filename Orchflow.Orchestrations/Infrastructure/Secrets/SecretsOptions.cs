namespace Orchflow.Infrastructure.Secrets;

/// <summary>Where provider keys are kept (section <c>Orchflow:Secrets</c>): Key Vault when a vault is named, else the local store.</summary>
public sealed class SecretsOptions
{
    public const string Section = "Orchflow:Secrets";

    /// <summary>The vault, e.g. <c>https://my-vault.vault.azure.net/</c>, reached with the app's identity. Empty: the local store.</summary>
    public string? VaultUri { get; set; }

    public bool UsesKeyVault => !string.IsNullOrWhiteSpace(VaultUri);

    /// <summary>The vault address, or a start-up failure that says what is wrong with the configured value.</summary>
    public Uri VaultEndpoint() =>
        !UsesKeyVault
            ? throw new InvalidOperationException($"{Section}:VaultUri is not set.")
            : Uri.TryCreate(VaultUri!.Trim(), UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps
                ? uri
                : throw new InvalidOperationException(
                    $"{Section}:VaultUri must be an absolute https URL such as https://my-vault.vault.azure.net/, not '{VaultUri}'.");
}
