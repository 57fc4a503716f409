using Microsoft.Extensions.Options;

namespace Orchflow.Erasure;

/// <summary>Checks <see cref="RetentionOptions"/> at start-up.</summary>
public sealed class RetentionOptionsValidation : IValidateOptions<RetentionOptions>
{
    public ValidateOptionsResult Validate(string? name, RetentionOptions options)
    {
        var errors = new SettingErrors(RetentionOptions.Section);
        // Ten seconds at least: a run is not erased while a client may still be reading its end.
        errors.Range(nameof(options.EndedRunDays), options.EndedRunDays, 10.0 / 86400, 36500);
        errors.Range(nameof(options.SweepIntervalSeconds), options.SweepIntervalSeconds, 1, 86400);
        errors.Range(nameof(options.MaxRunsPerSweep), options.MaxRunsPerSweep, 1, 100_000);
        return errors.Result();
    }
}
