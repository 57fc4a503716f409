using Microsoft.Extensions.Options;

namespace Orchflow;

/// <summary>Checks <see cref="AccountLimitOptions"/> at start-up.</summary>
public sealed class AccountLimitOptionsValidation : IValidateOptions<AccountLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, AccountLimitOptions options)
    {
        var errors = new SettingErrors(AccountLimitOptions.Section);
        errors.Range(nameof(options.MaxActiveRuns), options.MaxActiveRuns, 1, 100_000);
        return errors.Result();
    }
}
