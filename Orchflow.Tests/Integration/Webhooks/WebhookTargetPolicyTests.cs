using System.Net;
using Orchflow.Infrastructure.Network;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Webhooks;

/// <summary>
/// A host running as a deployment does (outside Development, with its own secrets): webhook URLs that name a
/// loopback, private, link-local or CGNAT address are refused at registration, and a host name that resolves to one
/// is refused when a delivery connects, so a webhook cannot be turned on the deployment's own network.
/// </summary>
[TestFixture]
public sealed class WebhookTargetPolicyTests : HostedTests
{
    WebhookReceiver receiver = null!;

    protected override async Task BeforeHostStartsAsync() => receiver = await WebhookReceiver.StartAsync();

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>(TestHosts.Deployment)
    {
        ["Orchflow__Webhooks__FirstRetryDelayMs"] = "1000",
        ["Orchflow__Webhooks__MaxAttempts"] = "2",
    };

    [OneTimeTearDown]
    public async Task StopReceiverAsync() => await receiver.DisposeAsync();

    [TestCase("https://127.0.0.1/hook")]
    [TestCase("https://127.8.9.10:8443/hook")]
    [TestCase("https://localhost/hook")]
    [TestCase("https://localhost./hook")]
    [TestCase("https://api.localhost/hook")]
    [TestCase("https://[::1]/hook")]
    [TestCase("https://[::ffff:10.0.0.1]/hook")]
    [TestCase("https://10.0.0.5/hook")]
    [TestCase("https://172.16.0.1/hook")]
    [TestCase("https://192.168.1.20:8080/hook")]
    [TestCase("https://169.254.169.254/metadata")]
    [TestCase("https://100.64.0.1/hook")]
    [TestCase("https://[fd00::1]/hook")]
    [TestCase("https://[fe80::1]/hook")]
    [TestCase("https://0.0.0.0/hook")]
    public async Task CreateWebhook_PrivateOrLocalAddress_Returns422NamingUrl(string url)
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "webhooks", new { url });

        Assert.That(ApiAssert.Invalid(response, "url"), Does.Contain("private or local address"));
        var list = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "webhooks"), HttpStatusCode.OK);
        Assert.That(list["webhooks"]!.AsArray(), Is.Empty, "nothing was stored");
    }

    [Test]
    public async Task CreateWebhook_HttpToLoopbackOutsideDevelopment_Returns422()
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "webhooks", new { url = receiver.Url("/dev") });

        Assert.That(ApiAssert.Invalid(response, "url"), Does.Contain("https"));
    }

    [Test]
    public async Task CreateWebhook_PublicHttpsUrl_Returns201()
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "webhooks", new { url = "https://hooks.example.com/orchflow" });

        ApiAssert.Json(response, HttpStatusCode.Created);
    }

    /// <summary>
    /// A name of this machine passes registration (it is no address) but resolves inward: the delivery is refused when
    /// it connects, and the receiver listening on loopback never hears from it.
    /// </summary>
    [Test]
    public async Task Delivery_ToANameThatResolvesInward_IsRefusedAtConnectAndRecordedAsFailed()
    {
        var name = await InwardNameAsync();
        using var client = await RegisterAsync();
        var port = new Uri(receiver.Url("/")).Port;
        var created = await client.SendAsync(HttpMethod.Post, "webhooks", new { url = $"https://{name}:{port}/inward", events = new[] { "run.queued" } });
        var webhookId = ApiAssert.Json(created, HttpStatusCode.Created).Str("webhook_id");

        await client.StartRunAsync(new { task = RunScenarios.Goal });
        var delivery = await client.WaitForDeliveryAsync(webhookId, d => d.Str("status") == "failed", "failed");

        Assert.Multiple(() =>
        {
            Assert.That(delivery.Str("last_error"), Does.Contain("private or local address"));
            Assert.That(delivery["last_status_code"], Is.Null);
            Assert.That(delivery["attempts"]!.GetValue<int>(), Is.EqualTo(2));
            Assert.That(receiver.At("/inward"), Is.Empty, "no request reached the address the name resolves to");
            Assert.That(Host.Output, Does.Not.Contain("/inward"), "the URL, which may hold a token, is not logged");
        });
    }

    /// <summary>
    /// A host name that is not localhost and resolves only to loopback or private addresses: one from /etc/hosts that
    /// resolves to loopback (the receiver listens there, so a failed guard would be heard), else this machine's own name.
    /// Without one the guard cannot be tried here, which fails the test: a skip would hide an unchecked guard.
    /// </summary>
    static async Task<string> InwardNameAsync()
    {
        var fromHostsFile = File.Exists("/etc/hosts")
            ? File.ReadAllLines("/etc/hosts")
                .Select(l => l.Split('#')[0].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length > 1 && IPAddress.TryParse(f[0], out var a) && IPAddress.IsLoopback(a))
                .SelectMany(f => f.Skip(1))
            : [];
        var candidates = fromHostsFile.Append(Dns.GetHostName())
            .Where(n => !n.Contains("localhost", StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.OrdinalIgnoreCase);
        foreach (var name in candidates)
        {
            var addresses = await Dns.GetHostAddressesAsync(name);
            if (addresses.Length > 0 && addresses.All(a => !SpecialAddresses.IsPublic(a)))
            {
                return name;
            }
        }

        Assert.Fail("No host name of this machine resolves inward only, so the connect-time guard cannot be tried: add one to " +
                    "/etc/hosts (e.g. '127.0.0.1 orchflow-inward.test').");
        return "";
    }
}
