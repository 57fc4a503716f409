using Microsoft.Extensions.Options;

namespace Orchflow;

/// <summary>Checks <see cref="TrialOptions"/> at start-up.</summary>
public sealed class TrialOptionsValidation : IValidateOptions<TrialOptions>
{
    public ValidateOptionsResult Validate(string? name, TrialOptions options)
    {
        var errors = new SettingErrors(TrialOptions.Section);
        errors.Range(nameof(options.TrialTokens), options.TrialTokens, 1_000, 100_000_000);
        return errors.Result();
    }
}
