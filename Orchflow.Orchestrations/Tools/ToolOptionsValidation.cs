using Microsoft.Extensions.Options;
using Orchflow.Abstractions;

namespace Orchflow.Tools;

/// <summary>Checks <see cref="ToolOptions"/> at start-up.</summary>
public sealed class ToolOptionsValidation : IValidateOptions<ToolOptions>
{
    public ValidateOptionsResult Validate(string? name, ToolOptions options)
    {
        var errors = new SettingErrors(ToolOptions.Section);
        errors.Range(nameof(options.CallTimeoutMs), options.CallTimeoutMs, 100, (long)ToolLimits.CallTimeout.TotalMilliseconds);
        errors.Range(nameof(options.ConnectTimeoutMs), options.ConnectTimeoutMs, 100, 120_000);
        return errors.Result();
    }
}
