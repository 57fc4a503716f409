using Microsoft.Extensions.Options;
using Orchflow.Infrastructure.Network;

namespace Orchflow.Models;

/// <summary>
/// The HTTP connections model calls travel on: one pool for the providers users register, which reaches only the
/// addresses the <see cref="AddressPolicy"/> allows, and one for the managed model the operator configured, which may
/// reach the deployment's own network (a private endpoint inside a virtual network, say). Neither follows a redirect
/// (it would carry the key to an address nobody checked), keeps cookies (one tenant's would go with another's calls),
/// uses a proxy or reaches a cloud metadata service; both read at most <see cref="ModelOptions.MaxResponseBytes"/> of
/// an answer, as sent and as decompressed.
/// </summary>
public sealed class ModelHttp : IDisposable
{
    public ModelHttp(IOptions<ModelOptions> options, AddressPolicy policy)
    {
        var limit = options.Value.MaxResponseBytes;
        UserProviders = Client(limit, policy.Connect(host => new BlockedEndpointException(
            $"The provider endpoint {host} is a private or local address, which this deployment does not call " +
            $"({AddressPolicy.Setting}). Register the provider with a public endpoint.")));
        Managed = Client(limit, AddressPolicy.Operator.Connect(host => new BlockedEndpointException(
            $"The managed model's endpoint {host} is a link-local address or a cloud metadata service, which Orchflow never calls.")));
    }

    public HttpClient UserProviders { get; }

    public HttpClient Managed { get; }

    static HttpClient Client(int limit, Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> connect)
    {
        var transport = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            // Decompressed by CappedResponses, which counts the bytes as sent and as decompressed.
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            ConnectCallback = connect,
        };
        var capped = new CappedResponses(limit, max => new AnswerTooLargeException(max)) { InnerHandler = transport };
        return new HttpClient(capped) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public void Dispose()
    {
        UserProviders.Dispose();
        Managed.Dispose();
    }
}

/// <summary>An endpoint a user registered (a provider, a webhook) resolved to an address this deployment does not call.</summary>
public sealed class BlockedEndpointException(string message) : Exception(message);

/// <summary>A provider's answer was longer than Orchflow reads, as sent or as decompressed.</summary>
public sealed class AnswerTooLargeException(long limit) : Exception($"The answer was longer than {limit} bytes.")
{
    public long Limit { get; } = limit;
}
