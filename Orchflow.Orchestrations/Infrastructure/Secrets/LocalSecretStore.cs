using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Infrastructure.Storage;

namespace Orchflow.Infrastructure.Secrets;

/// <summary>
/// Provider keys encrypted with AES-256-GCM (a fresh nonce per secret, the secret's name as associated data, so a
/// ciphertext cannot be moved to another name) and kept in Table Storage. For local use; Azure uses Key Vault.
/// </summary>
public sealed class LocalSecretStore(OrchflowTables tables, IOptions<SecurityOptions> options) : ISecretStore
{
    const string Partition = "secret";
    const int NonceSize = 12;
    const int TagSize = 16;

    public async Task SetAsync(string name, string value, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var plain = Encoding.UTF8.GetBytes(value);
        var cipher = new byte[plain.Length];
        var tag = new byte[TagSize];
        using (var aes = new AesGcm(Key(), TagSize))
        {
            aes.Encrypt(nonce, plain, cipher, tag, Encoding.UTF8.GetBytes(name));
        }

        CryptographicOperations.ZeroMemory(plain);
        await tables.Secrets.UpsertEntityAsync(
            new TableEntity(Partition, name) { ["Nonce"] = nonce, ["Ciphertext"] = cipher, ["Tag"] = tag },
            TableUpdateMode.Replace,
            cancellationToken);
    }

    public async Task<string?> GetAsync(string name, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var row = await tables.Secrets.GetEntityIfExistsAsync<TableEntity>(Partition, name, cancellationToken: cancellationToken);
        if (!row.HasValue || row.Value is null)
        {
            return null;
        }

        var cipher = row.Value.GetBinary("Ciphertext");
        var plain = new byte[cipher.Length];
        using var aes = new AesGcm(Key(), TagSize);
        aes.Decrypt(row.Value.GetBinary("Nonce"), cipher, row.Value.GetBinary("Tag"), plain, Encoding.UTF8.GetBytes(name));
        return Encoding.UTF8.GetString(plain);
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        await tables.Secrets.DeleteEntityAsync(Partition, name, cancellationToken: cancellationToken);
    }

    byte[] Key() => options.Value.SecretsKeyBytes();
}
