using Microsoft.Extensions.Options;

namespace Orchflow.Models;

/// <summary>Checks <see cref="ModelOptions"/> at start-up.</summary>
public sealed class ModelOptionsValidation : IValidateOptions<ModelOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelOptions options)
    {
        var errors = new SettingErrors(ModelOptions.Section);
        errors.Range(nameof(options.RequestTimeoutSeconds), options.RequestTimeoutSeconds, 1, 3_600);
        errors.Range(nameof(options.MaxAttempts), options.MaxAttempts, 1, 10);
        errors.Range(nameof(options.RetryBaseDelayMs), options.RetryBaseDelayMs, 0, 60_000);
        errors.Range(nameof(options.MaxRetryDelaySeconds), options.MaxRetryDelaySeconds, 0, 3_600);
        errors.Range(nameof(options.MaxOutputTokens), options.MaxOutputTokens, 16, 1_000_000);
        errors.Range(nameof(options.MaxResponseBytes), options.MaxResponseBytes, 64 * 1024, 256 * 1024 * 1024);
        return errors.Result();
    }
}
