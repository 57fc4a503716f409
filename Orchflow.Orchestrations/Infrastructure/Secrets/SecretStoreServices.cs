using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;

namespace Orchflow.Infrastructure.Secrets;

/// <summary>
/// Chooses the secret store from configuration (Key Vault when a vault is named, else the local store) and puts the
/// one <see cref="CachedSecretStore"/> in front of it, so no caller keeps secrets of its own.
/// </summary>
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
            services.AddSingleton<KeyVaultSecretStore>();
        }
        else
        {
            services.AddSingleton<LocalSecretStore>();
        }

        services.AddSingleton<ISecretStore>(sp => new CachedSecretStore(
            usesKeyVault ? sp.GetRequiredService<KeyVaultSecretStore>() : sp.GetRequiredService<LocalSecretStore>(),
            sp.GetRequiredService<TimeProvider>()));
        return services;
    }
}
