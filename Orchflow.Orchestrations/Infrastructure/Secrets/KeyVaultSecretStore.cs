using Azure;
using Azure.Security.KeyVault.Secrets;
using Orchflow.Abstractions;

namespace Orchflow.Infrastructure.Secrets;

/// <summary>
/// Provider keys in Azure Key Vault. Deleting starts the vault's soft delete and does not wait for it; failures name
/// the vault operation and its status, never the value.
/// </summary>
public sealed class KeyVaultSecretStore(SecretClient client) : ISecretStore
{
    const int NotFound = 404;
    const int MaxNameLength = 127;

    public async Task SetAsync(string name, string value, CancellationToken cancellationToken)
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(value);
        try
        {
            await client.SetSecretAsync(name, value, cancellationToken);
        }
        catch (RequestFailedException e)
        {
            throw Failure("store", name, e);
        }
    }

    public async Task<string?> GetAsync(string name, CancellationToken cancellationToken)
    {
        CheckName(name);
        try
        {
            return (await client.GetSecretAsync(name, cancellationToken: cancellationToken)).Value.Value;
        }
        catch (RequestFailedException e) when (e.Status == NotFound)
        {
            return null;
        }
        catch (RequestFailedException e)
        {
            throw Failure("read", name, e);
        }
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        CheckName(name);
        try
        {
            await client.StartDeleteSecretAsync(name, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == NotFound)
        {
            // Already gone: deleting is idempotent.
        }
        catch (RequestFailedException e)
        {
            throw Failure("delete", name, e);
        }
    }

    /// <summary>
    /// Key Vault names allow letters, digits and dashes only; the SDK puts the name into the request path unescaped,
    /// so anything else is refused before a request is made.
    /// </summary>
    static void CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > MaxNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            throw new ArgumentException(
                $"A Key Vault secret name has 1 to {MaxNameLength} letters, digits and dashes; '{name}' does not.", nameof(name));
        }
    }

    static InvalidOperationException Failure(string operation, string name, RequestFailedException e) =>
        new(e.Status == 0
                ? $"Key Vault failed to {operation} secret '{name}': no response ({e.InnerException?.GetType().Name ?? "transport error"})."
                : $"Key Vault failed to {operation} secret '{name}': status {e.Status}{(e.ErrorCode is null ? "" : $" ({e.ErrorCode})")}.",
            e);
}
