using Orchflow.Webhooks;

namespace Orchflow.Tests.Webhooks;

/// <summary>Which URLs a webhook may have, where private targets are allowed (development) and where not.</summary>
[TestFixture]
public sealed class WebhookTargetsTests
{
    [TestCase("https://hooks.example.com/orchflow", false)]
    [TestCase("https://hooks.example.com:8443/orchflow?token=abc", false)]
    [TestCase("https://127.0.0.1/hook", true)]
    [TestCase("http://127.0.0.1:8080/hook", true)]
    [TestCase("http://localhost:8080/hook", true)]
    [TestCase("http://[::1]:8080/hook", true)]
    [TestCase("https://10.0.0.5/hook", true)]
    public void Problem_AcceptedUrl_None(string url, bool allowPrivate) =>
        Assert.That(WebhookTargets.Problem(url, allowPrivate), Is.Null);

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
    [TestCase("https://100.100.100.100/x", false, "private or local")]
    [TestCase("https://[fe80::1]/x", false, "private or local")]
    public void Problem_RefusedUrl_SaysWhy(string url, bool allowPrivate, string why) =>
        Assert.That(WebhookTargets.Problem(url, allowPrivate), Does.Contain(why));
}
