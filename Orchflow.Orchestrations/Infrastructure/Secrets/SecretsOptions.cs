namespace Orchflow.Infrastructure.Secrets;

/// <summary>Where provider keys are kept (section <c>Orchflow:Secrets</c>): Key Vault when a vault is named, else the local store.</summary>
public sealed class SecretsOptions
{
    public const string Section = "Orchflow:Secrets";

    /// <summary>The vault, e.g. <c>https://my-vault.vault.azure.net/</c>, reached with the app's identity. Empty: the local store.</summary>
    public string? VaultUri { get; set; }

    public bool UsesKeyVault => !string.IsNullOrWhiteSpace(VaultUri);

    /// <summary>The vault address; <see cref="SecretsOptionsValidation"/> has refused a malformed one at start-up.</summary>
    public Uri VaultEndpoint() =>
        TryVaultEndpoint(VaultUri, out var uri)
            ? uri
            : throw new InvalidOperationException($"{Section}:VaultUri must be an absolute https URL, not '{VaultUri}'.");

    internal static bool TryVaultEndpoint(string? value, out Uri uri) =>
        Uri.TryCreate(value?.Trim(), UriKind.Absolute, out uri!) && uri.Scheme == Uri.UriSchemeHttps;
}
