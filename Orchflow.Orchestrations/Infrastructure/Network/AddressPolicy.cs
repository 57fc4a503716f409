using System.Net;
using System.Net.Sockets;

namespace Orchflow.Infrastructure.Network;

/// <summary>
/// The guard of every outbound call to an address a user gave (a provider endpoint, a tool server, a page for
/// <c>fetch_url</c>, a webhook): public addresses, and of the others only those in the operator's
/// <see cref="NetworkOptions.AllowedPrivateRanges"/>; never a link-local address or a cloud metadata service.
/// Checked on the URL as written when it is registered, and again on every address a name resolves to when a
/// connection is made, so a name that resolves inward is refused too.
/// </summary>
public sealed class AddressPolicy(IReadOnlyList<IPNetwork> allowedPrivateRanges, bool isDevelopment)
{
    /// <summary>The setting that lists the allowed ranges, as messages name it.</summary>
    public const string Setting = NetworkOptions.Section + ":" + nameof(NetworkOptions.AllowedPrivateRanges);

    /// <summary>Public addresses only, outside Development.</summary>
    public static AddressPolicy PublicOnly { get; } = new([], isDevelopment: false);

    /// <summary>
    /// For endpoints the operator configured (the managed model): anything but what is always denied, since the
    /// operator may well run the model inside the deployment's own network.
    /// </summary>
    public static AddressPolicy Operator { get; } = new([IPNetwork.Parse("0.0.0.0/0"), IPNetwork.Parse("::/0")], isDevelopment: false);

    /// <summary>Loopback allowed, as on a developer's machine and in tests.</summary>
    public static AddressPolicy Loopback(bool isDevelopment = true) =>
        new([IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("::1/128")], isDevelopment);

    /// <summary>Whether the host runs in Development, where http is accepted for a loopback address.</summary>
    public bool IsDevelopment { get; } = isDevelopment;

    public IReadOnlyList<IPNetwork> AllowedPrivateRanges { get; } = allowedPrivateRanges;

    /// <summary>
    /// Why a connection to <paramref name="address"/> is not made, if it is not: the special range it is in, when that
    /// range is always denied or not allowed. An address carried in an IPv6 one (NAT64, 6to4, mapped) is allowed when
    /// either form is in an allowed range.
    /// </summary>
    public SpecialRange? Refusal(IPAddress address)
    {
        if (SpecialAddresses.Of(address) is not { } range)
        {
            return null;
        }

        if (range.AlwaysDenied)
        {
            return range;
        }

        var carried = SpecialAddresses.Carried(address)?.Address;
        return AllowedPrivateRanges.Any(n => n.Contains(address) || (carried is not null && n.Contains(carried))) ? null : range;
    }

    public bool Allows(IPAddress address) => Refusal(address) is null;

    /// <summary>
    /// Why the host of <paramref name="uri"/>, as written, is refused, if it is: an address literal outside the policy,
    /// or localhost (any <c>*.localhost</c>) where loopback is not allowed. A name is otherwise judged when it resolves.
    /// </summary>
    public SpecialRange? LiteralRefusal(Uri uri)
    {
        // "localhost." is localhost too: a trailing dot only says the name is fully qualified.
        var host = uri.IdnHost.TrimEnd('.');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return Refusal(IPAddress.Loopback) is { } v4 && Refusal(IPAddress.IPv6Loopback) is not null ? v4 : null;
        }

        return IPAddress.TryParse(host, out var address) ? Refusal(address) : null;
    }

    /// <summary>Whether the URL names loopback as written: localhost, or a loopback address.</summary>
    public static bool IsLoopback(Uri uri)
    {
        var host = uri.IdnHost.TrimEnd('.');
        return uri.IsLoopback || host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ||
               host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase) ||
               (IPAddress.TryParse(host, out var address) && SpecialAddresses.Carried(address)?.Address is { } carried && IPAddress.IsLoopback(carried));
    }

    /// <summary>
    /// A <see cref="SocketsHttpHandler.ConnectCallback"/> that resolves the host and connects only to the addresses this
    /// policy allows; <paramref name="refusal"/> says why, given the host, when it allows none. It says nothing of
    /// which ranges the name resolved to: that would tell a caller about the deployment's own network.
    /// </summary>
    public Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> Connect(
        Func<string, Exception> refusal, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
    {
        resolve ??= Dns.GetHostAddressesAsync;
        return async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await resolve(host, cancellationToken);
            var allowed = addresses.Where(Allows).ToArray();
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
