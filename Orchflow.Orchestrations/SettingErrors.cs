using System.Globalization;
using Microsoft.Extensions.Options;

namespace Orchflow;

/// <summary>
/// What is wrong with one section's settings, gathered so that start-up reports every problem at once, each message
/// naming its setting in full (<c>Orchflow:Engine:MaxParallelTasks must be from 1 to 50, not 0.</c>).
/// </summary>
public sealed class SettingErrors(string section)
{
    readonly List<string> errors = [];

    /// <summary>A setting's name as configuration spells it, e.g. <c>Orchflow:Engine:MaxParallelTasks</c>.</summary>
    public string Name(string setting) => $"{section}:{setting}";

    /// <summary>Records a problem; <paramref name="problem"/> continues the setting's name ("must be …").</summary>
    public void Add(string setting, string problem) => errors.Add($"{Name(setting)} {problem}");

    /// <summary>Records a problem of a setting outside the section, named in full (a flat setting such as <c>ORCHFLOW_WEBHOOK_QUEUE</c>).</summary>
    public void AddSetting(string fullName, string problem) => errors.Add($"{fullName} {problem}");

    public void Range(string setting, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            Add(setting, string.Create(CultureInfo.InvariantCulture, $"must be from {min} to {max}, not {value}."));
        }
    }

    public void Range(string setting, double value, double min, double max)
    {
        if (!(value >= min && value <= max))
        {
            Add(setting, string.Create(CultureInfo.InvariantCulture, $"must be from {min} to {max}, not {value}."));
        }
    }

    public void AtLeast(string setting, long value, long min)
    {
        if (value < min)
        {
            Add(setting, string.Create(CultureInfo.InvariantCulture, $"must be at least {min}, not {value}."));
        }
    }

    /// <summary>An address that must be an absolute URL of one of <paramref name="schemes"/>, when it is set at all.</summary>
    public void Url(string setting, string? value, params string[] schemes)
    {
        if (!string.IsNullOrWhiteSpace(value) &&
            !(Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && schemes.Contains(uri.Scheme, StringComparer.OrdinalIgnoreCase)))
        {
            Add(setting, $"must be an absolute {string.Join(" or ", schemes)} URL, not '{value}'.");
        }
    }

    /// <summary>
    /// App settings written as <c>@Microsoft.KeyVault(…)</c> are replaced by the platform with the secret; when the secret
    /// is missing or the app may not read it, the reference text itself arrives, and used as a key it would be a value
    /// anyone can read in the template. The value is never quoted: it may be a secret.
    /// </summary>
    public void Resolved(string setting, string? value)
    {
        if (value is not null && value.TrimStart().StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase))
        {
            Add(setting, "is an unresolved Key Vault reference: check that the secret exists and that the app's identity may read it.");
        }
    }

    public ValidateOptionsResult Result() => errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
}
