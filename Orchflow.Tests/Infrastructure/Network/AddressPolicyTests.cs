using System.Net;
using Orchflow.Infrastructure.Network;

namespace Orchflow.Tests.Infrastructure.Network;

/// <summary>
/// The operator's allow-list over the special ranges: public addresses always, listed ranges (and IPv6 forms carrying
/// a listed IPv4 address) too, link-local and cloud metadata never, even under a list that holds everything; and the
/// connect-time half, which refuses a name that resolves only to refused addresses before any connection.
/// </summary>
[TestFixture]
public sealed class AddressPolicyTests
{
    static AddressPolicy Allowing(params string[] ranges) => new(ranges.Select(IPNetwork.Parse).ToList(), isDevelopment: false);

    [TestCase("10.1.2.3", "10.0.0.0/8", true)]
    [TestCase("10.1.2.3", "10.1.0.0/16", true)]
    [TestCase("10.2.2.3", "10.1.0.0/16", false)]
    [TestCase("192.168.7.7", "10.0.0.0/8", false)]
    [TestCase("127.0.0.1", "127.0.0.0/8", true)]
    [TestCase("::1", "127.0.0.0/8", false)]
    [TestCase("::1", "::1/128", true)]
    [TestCase("fd12:3456::9", "fd12:3456::/32", true)]
    [TestCase("fd12:3457::9", "fd12:3456::/32", false)]
    [TestCase("100.64.1.1", "100.64.0.0/10", true)]
    [TestCase("198.18.0.1", "198.18.0.0/15", true)]
    [TestCase("::ffff:10.0.0.1", "10.0.0.0/8", true)]
    [TestCase("64:ff9b::a00:1", "10.0.0.0/8", true)]
    [TestCase("2002:a00:1::1", "10.0.0.0/8", true)]
    [TestCase("64:ff9b::a00:1", "192.168.0.0/16", false)]
    [TestCase("8.8.8.8", "10.0.0.0/8", true)]
    [TestCase("2606:4700:4700::1111", "10.0.0.0/8", true)]
    public void Allows_AddressUnderAnAllowList_AllowedWhenPublicOrListed(string address, string allowed, bool expected) =>
        Assert.That(Allowing(allowed).Allows(IPAddress.Parse(address)), Is.EqualTo(expected));

    [TestCase("10.1.2.3")]
    [TestCase("127.0.0.1")]
    [TestCase("::1")]
    [TestCase("100.64.0.1")]
    [TestCase("0.0.0.0")]
    [TestCase("fd00::1")]
    [TestCase("64:ff9b::a00:1")]
    [TestCase("2002:a00:1::1")]
    [TestCase("::ffff:192.168.1.1")]
    [TestCase("224.0.0.251")]
    [TestCase("240.0.0.1")]
    [TestCase("192.0.2.10")]
    [TestCase("2001:db8::10")]
    public void Allows_SpecialAddressWithNothingListed_Refused(string address) =>
        Assert.That(AddressPolicy.PublicOnly.Refusal(IPAddress.Parse(address)), Is.Not.Null);

    [TestCase("169.254.169.254")]
    [TestCase("169.254.1.1")]
    [TestCase("168.63.129.16")]
    [TestCase("100.100.100.200")]
    [TestCase("fd00:ec2::254")]
    [TestCase("fe80::1")]
    [TestCase("::ffff:169.254.169.254")]
    [TestCase("64:ff9b::a9fe:a9fe")]
    [TestCase("2002:a9fe:a9fe::1")]
    public void Allows_LinkLocalOrMetadata_RefusedEvenWhenEverythingIsListed(string address)
    {
        var everything = Allowing("0.0.0.0/0", "::/0", "169.254.0.0/16", "fe80::/10", "168.63.129.16/32", "fd00:ec2::254/128");

        Assert.Multiple(() =>
        {
            Assert.That(everything.Allows(IPAddress.Parse(address)), Is.False);
            Assert.That(AddressPolicy.Operator.Allows(IPAddress.Parse(address)), Is.False, "the managed model's policy too");
        });
    }

    [TestCase("https://localhost/v1", false)]
    [TestCase("https://LOCALHOST./v1", false)]
    [TestCase("https://api.localhost/v1", false)]
    [TestCase("https://127.0.0.1/v1", false)]
    [TestCase("https://[::1]/v1", false)]
    [TestCase("https://10.0.0.1/v1", true)]
    [TestCase("https://[fe80::1]/v1", true)]
    [TestCase("https://llm.internal.example/v1", false)]
    public void LiteralRefusal_LoopbackListed_LoopbackWrittenOutPassesAndNamesWaitForTheirAddresses(string url, bool refused) =>
        Assert.That(AddressPolicy.Loopback().LiteralRefusal(new Uri(url)) is not null, Is.EqualTo(refused));

    [TestCase("https://localhost/v1")]
    [TestCase("https://127.0.0.1/v1")]
    [TestCase("https://[::ffff:127.0.0.1]/v1")]
    [TestCase("https://[64:ff9b::7f00:1]/v1")]
    public void LiteralRefusal_NothingListed_LoopbackInEveryFormRefused(string url) =>
        Assert.That(AddressPolicy.PublicOnly.LiteralRefusal(new Uri(url)), Is.Not.Null);

    [TestCase("10.1.2.3")]
    [TestCase("127.0.0.1")]
    [TestCase("169.254.169.254")]
    [TestCase("::1")]
    [TestCase("64:ff9b::a9fe:a9fe")]
    public void Connect_NameResolvingOnlyToRefusedAddresses_RefusedWithTheGivenReason(string address)
    {
        var resolved = new List<string>();
        var connect = AddressPolicy.PublicOnly.Connect(host => new InvalidOperationException($"refused {host}"), (host, _) =>
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

    [Test]
    public async Task Connect_NameResolvingToMetadataAndToAnAllowedAddress_ConnectsOnlyToTheAllowedOne()
    {
        await using var server = await FakeChatServer.StartAsync();
        var connect = AddressPolicy.Loopback().Connect(host => new InvalidOperationException($"refused {host}"), (_, _) =>
            Task.FromResult(new[] { IPAddress.Parse("169.254.169.254"), IPAddress.Loopback }));
        using var handler = new SocketsHttpHandler { ConnectCallback = connect };
        using var http = new HttpClient(handler);

        using var response = await http.GetAsync($"http://mixed.example:{server.BaseUri.Port}/v1/models");

        Assert.Multiple(() =>
        {
            Assert.That(response.IsSuccessStatusCode, Is.True);
            Assert.That(server.Requests, Has.Count.EqualTo(1));
        });
    }
}
