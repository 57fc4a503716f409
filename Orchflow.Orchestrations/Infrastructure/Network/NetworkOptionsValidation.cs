using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Orchflow.Infrastructure.Network;

/// <summary>
/// Checks <see cref="NetworkOptions"/> at start-up: every allowed range is a CIDR range or an address, and none of the
/// switches it replaced is still set, since a deployment relying on one would otherwise find its private endpoints
/// refused with no word why.
/// </summary>
public sealed class NetworkOptionsValidation(IConfiguration? configuration = null) : IValidateOptions<NetworkOptions>
{
    /// <summary>The settings that once opened every private address to one kind of endpoint, replaced by the allow-list.</summary>
    public static readonly string[] Retired = ["Orchflow:Models:AllowPrivateEndpoints", "Orchflow:Webhooks:AllowPrivateTargets", "Orchflow:Tools:AllowPrivateAddresses"];

    public ValidateOptionsResult Validate(string? name, NetworkOptions options)
    {
        var errors = new SettingErrors(NetworkOptions.Section);
        foreach (var retired in Retired.Where(r => !string.IsNullOrWhiteSpace(configuration?[r])))
        {
            errors.AddSetting(retired,
                $"is no longer read: list the private ranges endpoints may reach in {NetworkOptions.Section}:{nameof(options.AllowedPrivateRanges)} " +
                "(127.0.0.0/8 and ::1/128 for this machine, say), and remove it.");
        }

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
