using System.Net;
using System.Net.Sockets;

namespace Orchflow.Infrastructure.Network;

/// <summary>
/// The guard of every outbound call to an address a user gave (a provider endpoint, a webhook URL): which addresses
/// are the deployment's own network rather than the internet, and a connection that goes only to public ones.
/// </summary>
public static class PrivateAddresses
{
    /// <summary>Loopback, private, link-local, carrier-grade NAT and unspecified addresses: none of them is a public service.</summary>
    public static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal;
        }

        var b = address.GetAddressBytes();
        return b[0] == 10 || b[0] == 0 ||
               (b[0] == 172 && b[1] is >= 16 and <= 31) ||
               (b[0] == 192 && b[1] == 168) ||
               (b[0] == 169 && b[1] == 254) ||
               (b[0] == 100 && b[1] is >= 64 and <= 127);
    }

    /// <summary>
    /// Whether the URL names a local or private target as written (localhost, or an address literal): what can be
    /// refused before anything is stored. A name that resolves inward is refused when a call connects.
    /// </summary>
    public static bool IsLiteralPrivate(Uri uri)
    {
        // "localhost." is localhost too: a trailing dot only says the name is fully qualified.
        var host = uri.IdnHost.TrimEnd('.');
        return uri.IsLoopback ||
               host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ||
               host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase) ||
               (IPAddress.TryParse(host, out var address) && IsPrivate(address));
    }

    /// <summary>
    /// A <see cref="SocketsHttpHandler.ConnectCallback"/> that resolves the host and connects only to its public
    /// addresses, so a name that resolves inward is refused too; <paramref name="refusal"/> says why, given the host.
    /// </summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> PublicOnly(
        Func<string, Exception> refusal, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
    {
        resolve ??= Dns.GetHostAddressesAsync;
        return async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await resolve(host, cancellationToken);
            var allowed = addresses.Where(a => !IsPrivate(a)).ToArray();
            if (allowed.Length == 0)
            {
                throw refusal(host);
            }

            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
    }
}
