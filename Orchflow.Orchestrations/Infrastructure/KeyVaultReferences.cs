namespace Orchflow.Infrastructure;

/// <summary>
/// App settings written as <c>@Microsoft.KeyVault(…)</c> are replaced by the platform with the secret. When the
/// secret is missing or the app may not read it, the reference text itself arrives instead; used as a key, it would
/// be a value anyone can read in the template.
/// </summary>
public static class KeyVaultReferences
{
    const string Prefix = "@Microsoft.KeyVault(";

    /// <summary>Fails start-up when a setting still holds an unresolved reference, naming the setting.</summary>
    public static void EnsureResolved(string setting, string? value)
    {
        if (value is not null && value.TrimStart().StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"{setting} is an unresolved Key Vault reference: check that the secret exists and that the app's identity may read it.");
        }
    }
}
