using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Orchflow.Models;

/// <summary>
/// The HTTP connections model calls travel on: one pool for the providers users register, which may not reach
/// private addresses unless <see cref="ModelOptions.AllowPrivateEndpoints"/> says so, and one for the managed model
/// the operator configured, which may (a private endpoint inside a virtual network, say).
/// </summary>
public sealed class ModelHttp : IDisposable
{
    public ModelHttp(IOptions<ModelOptions> options)
    {
        var allowPrivate = options.Value.AllowPrivateEndpoints ?? false;
        UserProviders = new HttpClient(Handler(allowPrivate ? null : ConnectToPublicAddressAsync)) { Timeout = Timeout.InfiniteTimeSpan };
        Managed = new HttpClient(Handler(null)) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public HttpClient UserProviders { get; }

    public HttpClient Managed { get; }

    /// <summary>Loopback, private, link-local, carrier-grade NAT and unspecified addresses: none of them is a public model API.</summary>
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

    static SocketsHttpHandler Handler(Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? connect)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            AutomaticDecompression = DecompressionMethods.All,
        };
        if (connect is not null)
        {
            handler.ConnectCallback = connect;
        }

        return handler;
    }

    /// <summary>Resolves the host and connects only to its public addresses, so a name that resolves inward is refused too.</summary>
    static async ValueTask<Stream> ConnectToPublicAddressAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(a => !IsPrivate(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new BlockedEndpointException(
                $"The provider endpoint {host} is a private or local address, which this deployment does not call " +
                "(Orchflow:Models:AllowPrivateEndpoints). Register the provider with a public endpoint.");
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
    }

    public void Dispose()
    {
        UserProviders.Dispose();
        Managed.Dispose();
    }
}

/// <summary>A registered provider's endpoint resolved to an address this deployment does not call.</summary>
public sealed class BlockedEndpointException(string message) : Exception(message);
