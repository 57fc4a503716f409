using Microsoft.Extensions.Options;

namespace Orchflow.Live;

/// <summary>Checks <see cref="LiveOutputOptions"/> at start-up.</summary>
public sealed class LiveOutputOptionsValidation : IValidateOptions<LiveOutputOptions>
{
    public ValidateOptionsResult Validate(string? name, LiveOutputOptions options)
    {
        var errors = new SettingErrors(LiveOutputOptions.Section);
        errors.Range(nameof(options.FlushMs), options.FlushMs, 10, 10_000);
        errors.Range(nameof(options.MaxChars), options.MaxChars, 1_000, 400_000);
        return errors.Result();
    }
}
