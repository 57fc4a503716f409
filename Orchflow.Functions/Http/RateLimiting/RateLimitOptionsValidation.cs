using Microsoft.Extensions.Options;

namespace Orchflow.Functions.Http.RateLimiting;

/// <summary>Checks <see cref="RateLimitOptions"/> at start-up.</summary>
public sealed class RateLimitOptionsValidation : IValidateOptions<RateLimitOptions>
{
    /// <summary>Far above any real limit: the bench sets a million to take the limits out of its way.</summary>
    const int Most = 100_000_000;

    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var errors = new SettingErrors(RateLimitOptions.Section);
        errors.Range(nameof(options.PerMinute), options.PerMinute, 1, Most);
        errors.Range(nameof(options.Burst), options.Burst, 1, Most);
        errors.Range(nameof(options.RegisterPerMinute), options.RegisterPerMinute, 1, Most);
        errors.Range(nameof(options.FailedAuthPerMinute), options.FailedAuthPerMinute, 1, Most);
        errors.Range(nameof(options.RefusalPauseMs), options.RefusalPauseMs, 0, 1_000);
        if (options.ClientAddressHeader is { Length: > 0 } header && !header.All(IsTokenChar))
        {
            errors.Add(nameof(options.ClientAddressHeader), $"must be a header name such as X-Forwarded-For, not '{header}'.");
        }

        return errors.Result();
    }

    /// <summary>The characters of an HTTP token (RFC 9110), which a header name is.</summary>
    static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);
}
