using Azure;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Logging;
using Orchflow.Abstractions;

namespace Orchflow.Infrastructure.Secrets;

/// <summary>
/// Provider keys in Azure Key Vault. Deleting erases: the secret is deleted, its soft delete waited for, and the deleted
/// secret purged, unless the vault's purge protection forbids it (then it expires with the vault's retention). Failures
/// name the vault operation and its status, never the value.
/// </summary>
public sealed class KeyVaultSecretStore(SecretClient client, ILogger<KeyVaultSecretStore> log) : ISecretStore
{
    const int NotFound = 404;
    const int MaxNameLength = 127;

    /// <summary>What a vault with purge protection (or without the purge permission) answers a purge.</summary>
    static readonly int[] PurgeRefused = [403, 409];

    int purgeRefusalLogged;

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
            var deleting = await client.StartDeleteSecretAsync(name, cancellationToken);
            await deleting.WaitForCompletionAsync(cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == NotFound)
        {
            // Deleted before, perhaps by a pass that stopped before its purge: purged below all the same.
        }
        catch (RequestFailedException e)
        {
            throw Failure("delete", name, e);
        }

        await PurgeAsync(name, cancellationToken);
    }

    /// <summary>
    /// Purges the deleted secret. A vault that refuses (purge protection, which cannot be turned off, or a missing
    /// permission) keeps it recoverable until its retention ends; that is logged once per process and never fails the
    /// deletion, since nothing this process can do would change it.
    /// </summary>
    async Task PurgeAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await client.PurgeDeletedSecretAsync(name, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == NotFound)
        {
            // Purged before, or a vault without soft delete, where deleting was final.
        }
        catch (RequestFailedException e) when (PurgeRefused.Contains(e.Status))
        {
            if (Interlocked.Exchange(ref purgeRefusalLogged, 1) == 0)
            {
                log.LogWarning(
                    "Key Vault refused to purge deleted secrets (status {Status}, {Code}): they stay recoverable until the vault's soft-delete retention ends. Purge protection or a missing purge permission causes this; it is logged once.",
                    e.Status, e.ErrorCode);
            }
        }
        catch (RequestFailedException e)
        {
            throw Failure("purge", name, e);
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
