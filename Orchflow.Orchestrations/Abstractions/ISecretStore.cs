namespace Orchflow.Abstractions;

/// <summary>Where provider keys live, encrypted: Key Vault in Azure, an envelope-encrypted table locally.</summary>
public interface ISecretStore
{
    Task SetAsync(string name, string value, CancellationToken cancellationToken);

    Task<string?> GetAsync(string name, CancellationToken cancellationToken);

    Task DeleteAsync(string name, CancellationToken cancellationToken);
}
