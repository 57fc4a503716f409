using Microsoft.Extensions.Options;

namespace Orchflow.Functions.Http;

/// <summary>Checks <see cref="BrowserClientOptions"/> at start-up: every listed entry must be an origin, and each that is not is named.</summary>
public sealed class BrowserClientOptionsValidation : IValidateOptions<BrowserClientOptions>
{
    public ValidateOptionsResult Validate(string? name, BrowserClientOptions options)
    {
        var errors = new SettingErrors(BrowserClientOptions.Section);
        foreach (var origin in options.AllowedOrigins)
        {
            if (!IsOrigin(origin))
            {
                errors.Add(nameof(options.AllowedOrigins), $"holds '{origin}', which is not an origin: give scheme, host and optional port, " +
                                                            "like https://app.example.com, with no path or '*'.");
            }
        }

        return errors.Result();
    }

    static bool IsOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" &&
        string.Equals(uri.GetLeftPart(UriPartial.Authority), origin, StringComparison.OrdinalIgnoreCase);
}
