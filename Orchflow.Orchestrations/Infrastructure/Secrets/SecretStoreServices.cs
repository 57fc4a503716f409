using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;

namespace Orchflow.Infrastructure.Secrets;

/// <summary>Chooses the provider-key store from configuration: Key Vault when a vault is named, else the local store.</summary>
public static class SecretStoreServices
{
    public static IServiceCollection AddSecretStore(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(SecretsOptions.Section);
        var usesKeyVault = (section.Get<SecretsOptions>() ?? new SecretsOptions()).UsesKeyVault;

        services.AddValidatedOptions<SecretsOptions, SecretsOptionsValidation>(section);
        // The local store's key is required only when that store is the one in use.
        services.PostConfigure<SecurityOptions>(o => o.UsesLocalSecretStore = !usesKeyVault);

        if (usesKeyVault)
        {
            services.AddSingleton(sp => new SecretClient(
                sp.GetRequiredService<IOptions<SecretsOptions>>().Value.VaultEndpoint(), new DefaultAzureCredential()));
            services.AddSingleton<ISecretStore, KeyVaultSecretStore>();
        }
        else
        {
            services.AddSingleton<ISecretStore, LocalSecretStore>();
        }

        return services;
    }
}
