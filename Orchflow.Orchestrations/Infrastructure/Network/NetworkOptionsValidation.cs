using Microsoft.Extensions.Options;

namespace Orchflow.Infrastructure.Network;

/// <summary>Checks <see cref="NetworkOptions"/> at start-up: every allowed range is a CIDR range or an address.</summary>
public sealed class NetworkOptionsValidation : IValidateOptions<NetworkOptions>
{
    public ValidateOptionsResult Validate(string? name, NetworkOptions options)
    {
        var errors = new SettingErrors(NetworkOptions.Section);
        for (var i = 0; i < options.AllowedPrivateRanges.Count; i++)
        {
            var entry = options.AllowedPrivateRanges[i];
            if (!string.IsNullOrWhiteSpace(entry) && NetworkOptions.TryParse(entry) is null)
            {
                errors.Add($"{nameof(options.AllowedPrivateRanges)}:{i}",
                    $"holds '{entry}', which is not a CIDR range (such as 10.20.0.0/16 or fd12:3456::/48, with no bits set past the prefix) nor an address.");
            }
        }

        return errors.Result();
    }
}
