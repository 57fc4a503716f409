using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Orchflow.Infrastructure.Network;

namespace Orchflow.Functions.Http.RateLimiting;

/// <summary>Whom a request comes from, as far as limits per client address can tell.</summary>
public sealed class ClientAddresses(IOptions<RateLimitOptions> options)
{
    /// <summary>
    /// The caller's address: the connection's, or behind a trusted proxy the rightmost public address in
    /// <see cref="RateLimitOptions.ClientAddressHeader"/>. Entries further left were sent by the client and could be
    /// forged; private ones are the proxies' own hops.
    /// </summary>
    public string Of(HttpContext http)
    {
        if (options.Value.ClientAddressHeader is { Length: > 0 } header)
        {
            var entries = string.Join(',', http.Request.Headers[header].ToArray()).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            foreach (var entry in entries.Reverse())
            {
                if (ParseAddress(entry) is { } address && SpecialAddresses.IsPublic(address))
                {
                    return Normalize(address);
                }
            }
        }

        return http.Connection.RemoteIpAddress is { } remote ? Normalize(remote) : "unknown";
    }

    /// <summary>An address as proxies write it: <c>1.2.3.4</c>, <c>1.2.3.4:5678</c>, <c>::1</c> or <c>[::1]:80</c>.</summary>
    static IPAddress? ParseAddress(string entry) =>
        IPEndPoint.TryParse(entry, out var endpoint) ? endpoint.Address : null;

    /// <summary>
    /// Whom an address stands for: an IPv4 address itself; an IPv6 address its /64, the smallest network a provider gives
    /// one subscriber, so that one subscriber's many addresses share one bucket (<c>2001:db8:1:2::-64</c>).
    /// </summary>
    internal static string Normalize(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        // "/" may not appear in a table key, which the shared bucket's name becomes.
        return new IPAddress(bytes) + "-64";
    }
}
