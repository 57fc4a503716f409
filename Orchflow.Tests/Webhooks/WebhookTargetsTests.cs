using System.Net;
using Orchflow.Infrastructure.Network;
using Orchflow.Webhooks;

namespace Orchflow.Tests.Webhooks;

/// <summary>
/// Which URLs a webhook may have: in Development with loopback and one private range allowed, and in a deployment that
/// allows no private range.
/// </summary>
[TestFixture]
public sealed class WebhookTargetsTests
{
    static readonly AddressPolicy Development =
        new([IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("10.0.0.0/8")], isDevelopment: true);

    static AddressPolicy Policy(bool development) => development ? Development : AddressPolicy.PublicOnly;

    [TestCase("https://hooks.example.com/orchflow", false)]
    [TestCase("https://hooks.example.com:8443/orchflow?token=abc", false)]
    [TestCase("https://127.0.0.1/hook", true)]
    [TestCase("http://127.0.0.1:8080/hook", true)]
    [TestCase("http://localhost:8080/hook", true)]
    [TestCase("http://[::1]:8080/hook", true)]
    [TestCase("https://10.0.0.5/hook", true)]
    public void Problem_AcceptedUrl_None(string url, bool development) =>
        Assert.That(WebhookTargets.Problem(url, Policy(development)), Is.Null);

    [TestCase("http://hooks.example.com/x", true, "https")]
    [TestCase("http://10.0.0.5/x", true, "loopback")]
    [TestCase("http://127.0.0.1/x", false, "https")]
    [TestCase("ftp://hooks.example.com/x", false, "https")]
    [TestCase("hooks.example.com/x", false, "https")]
    [TestCase("https://user:pw@hooks.example.com/x", false, "credentials")]
    [TestCase("https://localhost/x", false, "private or local")]
    [TestCase("https://LOCALHOST./x", false, "private or local")]
    [TestCase("https://a.b.localhost/x", false, "private or local")]
    [TestCase("https://192.168.0.1/x", false, "private or local")]
    [TestCase("https://192.168.0.1/x", true, "Orchflow:Network:AllowedPrivateRanges")]
    [TestCase("https://100.100.100.100/x", false, "private or local")]
    [TestCase("https://[fe80::1]/x", false, "private or local")]
    [TestCase("https://169.254.169.254/latest/meta-data/", true, "never calls")]
    [TestCase("https://[::ffff:169.254.169.254]/latest/meta-data/", true, "never calls")]
    [TestCase("https://168.63.129.16/machine", true, "never calls")]
    public void Problem_RefusedUrl_SaysWhy(string url, bool development, string why) =>
        Assert.That(WebhookTargets.Problem(url, Policy(development)), Does.Contain(why));
}
