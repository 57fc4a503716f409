using System.Net;
using Microsoft.Extensions.Options;
using Orchflow.Infrastructure.Network;

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

    /// <summary>Connects only to public addresses, so a provider name that resolves inward is refused too.</summary>
    static readonly Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectToPublicAddressAsync =
        PrivateAddresses.PublicOnly(host => new BlockedEndpointException(
            $"The provider endpoint {host} is a private or local address, which this deployment does not call " +
            "(Orchflow:Models:AllowPrivateEndpoints). Register the provider with a public endpoint."));

    public void Dispose()
    {
        UserProviders.Dispose();
        Managed.Dispose();
    }
}

/// <summary>An endpoint a user registered (a provider, a webhook) resolved to an address this deployment does not call.</summary>
public sealed class BlockedEndpointException(string message) : Exception(message);
