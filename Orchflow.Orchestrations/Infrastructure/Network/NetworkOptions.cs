using System.Net;

namespace Orchflow.Infrastructure.Network;

/// <summary>Which addresses outbound calls to endpoints users register may reach (section <c>Orchflow:Network</c>).</summary>
public sealed class NetworkOptions
{
    public const string Section = "Orchflow:Network";

    /// <summary>
    /// The non-public ranges (CIDR, or one address) that providers, tool servers, <c>fetch_url</c> and webhooks may
    /// reach: none by default; a private model server's subnet, say, or loopback (127.0.0.0/8 and ::1/128) on a
    /// developer's machine and in tests. Link-local ranges and cloud metadata services stay out of reach even when listed.
    /// Blank entries are ignored.
    /// </summary>
    public List<string> AllowedPrivateRanges { get; set; } = [];

    /// <summary>The ranges as networks; entries that do not parse are left out (start-up validation names them).</summary>
    public IReadOnlyList<IPNetwork> Ranges() =>
        AllowedPrivateRanges.Select(TryParse).OfType<IPNetwork>().ToList();

    /// <summary>A CIDR range, or a single address as the range of just that address; null when it is neither.</summary>
    public static IPNetwork? TryParse(string? text)
    {
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (IPAddress.TryParse(text, out var address) && !text.Contains('/'))
        {
            return new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        }

        // "10.20.0.1/16" is refused rather than read as 10.20.0.0/16: it may as well have meant the one address.
        return IPNetwork.TryParse(text, out var network) && IPAddress.TryParse(text.Split('/')[0], out var written) &&
               written.Equals(network.BaseAddress)
            ? network
            : null;
    }
}
