using Microsoft.Extensions.Options;

namespace Orchflow.Models;

/// <summary>Checks <see cref="SimulatedModelOptions"/> at start-up.</summary>
public sealed class SimulatedModelOptionsValidation : IValidateOptions<SimulatedModelOptions>
{
    public ValidateOptionsResult Validate(string? name, SimulatedModelOptions options)
    {
        var errors = new SettingErrors(SimulatedModelOptions.Section);
        errors.Range(nameof(options.LatencyMs), options.LatencyMs, 0, 60_000);
        // Padded outputs are held in memory and chunked into the projection: ten million characters is already a stress test.
        errors.Range(nameof(options.OutputChars), options.OutputChars, 0, 10_000_000);
        return errors.Result();
    }
}
