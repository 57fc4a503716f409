using Microsoft.Extensions.Options;

namespace Orchflow.Models;

/// <summary>Checks <see cref="ManagedModelOptions"/> at start-up: with a provider named, it must be complete.</summary>
public sealed class ManagedModelOptionsValidation : IValidateOptions<ManagedModelOptions>
{
    public ValidateOptionsResult Validate(string? name, ManagedModelOptions options)
    {
        if (!options.IsConfigured)
        {
            return ValidateOptionsResult.Success;
        }

        var errors = new SettingErrors(ManagedModelOptions.Section);
        var provider = options.Provider!;
        if (!ProviderKinds.IsKnown(provider))
        {
            errors.Add(nameof(options.Provider), $"must be one of: {string.Join(", ", ProviderKinds.All)}.");
        }

        if (string.IsNullOrWhiteSpace(options.Model))
        {
            errors.Add(nameof(options.Model), "is required.");
        }

        if (string.IsNullOrWhiteSpace(options.ApiKey))
        {
            errors.Add(nameof(options.ApiKey), "is required.");
        }

        errors.Resolved(nameof(options.ApiKey), options.ApiKey);
        if (string.IsNullOrWhiteSpace(options.Endpoint))
        {
            if (ProviderKinds.NeedsEndpoint(provider))
            {
                errors.Add(nameof(options.Endpoint), $"must be an absolute URL for {provider}.");
            }
        }
        else if (!Uri.TryCreate(options.Endpoint, UriKind.Absolute, out _))
        {
            errors.Add(nameof(options.Endpoint), $"must be an absolute URL, not '{options.Endpoint}'.");
        }

        return errors.Result();
    }
}
