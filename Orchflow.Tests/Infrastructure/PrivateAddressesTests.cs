using System.Net;
using Orchflow.Infrastructure.Network;

namespace Orchflow.Tests.Infrastructure;

/// <summary>The connect-time half of the address guard: a name that resolves only inward is refused before any connection.</summary>
[TestFixture]
public sealed class PrivateAddressesTests
{
    [TestCase("10.1.2.3")]
    [TestCase("127.0.0.1")]
    [TestCase("169.254.169.254")]
    [TestCase("::1")]
    public void PublicOnly_NameResolvingOnlyInward_RefusedWithTheGivenReason(string address)
    {
        var resolved = new List<string>();
        var connect = PrivateAddresses.PublicOnly(host => new InvalidOperationException($"refused {host}"), (host, _) =>
        {
            resolved.Add(host);
            return Task.FromResult(new[] { IPAddress.Parse(address) });
        });
        using var handler = new SocketsHttpHandler { ConnectCallback = connect };
        using var http = new HttpClient(handler);

        var failure = Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("http://inward.example:9/"));

        Assert.Multiple(() =>
        {
            Assert.That(failure!.InnerException, Is.TypeOf<InvalidOperationException>().With.Message.EqualTo("refused inward.example"));
            Assert.That(resolved, Is.EqualTo(new[] { "inward.example" }));
        });
    }
}
