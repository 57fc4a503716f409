using Microsoft.Extensions.Options;

namespace Orchflow.Infrastructure.Storage;

/// <summary>Checks <see cref="StorageOptions"/> at start-up.</summary>
public sealed class StorageOptionsValidation : IValidateOptions<StorageOptions>
{
    /// <summary>Table names have at most 63 characters, and the longest name the prefix goes in front of is WebhookDeliveries.</summary>
    const int LongestPrefix = 63 - 17;

    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var errors = new SettingErrors(StorageOptions.Section);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            // Without a connection string, each service is reached by its own endpoint with the app's identity.
            foreach (var (setting, value) in new[] { (nameof(options.TableServiceUri), options.TableServiceUri), (nameof(options.QueueServiceUri), options.QueueServiceUri) })
            {
                if (string.IsNullOrWhiteSpace(value))
                {
                    errors.Add(setting, $"is required when {errors.Name(nameof(options.ConnectionString))} is not set.");
                }
            }
        }

        errors.Url(nameof(options.TableServiceUri), options.TableServiceUri, "https", "http");
        errors.Url(nameof(options.QueueServiceUri), options.QueueServiceUri, "https", "http");
        if (!IsTablePrefix(options.TablePrefix))
        {
            errors.Add(nameof(options.TablePrefix), $"must be up to {LongestPrefix} letters and digits, beginning with a letter, not '{options.TablePrefix}'.");
        }

        errors.Range(nameof(options.ReadFreshnessMs), options.ReadFreshnessMs, 0, 10_000);
        // Below a million characters the memory would forget runs faster than pollers ask for them.
        errors.Range(nameof(options.KnownRunsCapacity), options.KnownRunsCapacity, 1_000_000, 4_000_000_000);
        return errors.Result();
    }

    static bool IsTablePrefix(string? prefix) =>
        prefix is not null && prefix.Length <= LongestPrefix && prefix.All(char.IsAsciiLetterOrDigit) && (prefix.Length == 0 || char.IsAsciiLetter(prefix[0]));
}
