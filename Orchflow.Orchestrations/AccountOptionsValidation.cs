using Microsoft.Extensions.Options;

namespace Orchflow;

/// <summary>Checks <see cref="AccountOptions"/> at start-up.</summary>
public sealed class AccountOptionsValidation : IValidateOptions<AccountOptions>
{
    public ValidateOptionsResult Validate(string? name, AccountOptions options)
    {
        var errors = new SettingErrors(AccountOptions.Section);
        // 0: new accounts start runs only on a provider of their own.
        errors.AtLeast(nameof(options.TrialRuns), options.TrialRuns, 0);
        return errors.Result();
    }
}
