using System.Diagnostics;
using System.Net;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Durability;

/// <summary>
/// Two standalone hosts on one set of tables, as two instances of a deployment: a key revoked through one is refused by
/// the other within the 5 s the contract allows, though nothing tells the other of it.
/// </summary>
[TestFixture]
public sealed class KeyRevocationAcrossHostsTests : HostedTests
{
    static readonly TimeSpan Allowed = TimeSpan.FromSeconds(5);

    OrchflowHost other = null!;

    [OneTimeSetUp]
    public async Task StartTheOtherHostAsync() =>
        // The same tables, a task hub of its own: this test needs the second instance's API, not its share of the runs.
        other = await TestHosts.StartAsync(new Dictionary<string, string> { [OrchflowHost.TablePrefixSetting] = Host.TablePrefix });

    [OneTimeTearDown]
    public async Task StopTheOtherHostAsync() => await TestHosts.EndAsync(other);

    [Test]
    public async Task RevokeKey_ThroughOneHost_IsRefusedByTheOtherWithinFiveSeconds()
    {
        using var owner = await RegisterAsync();
        var created = ApiAssert.Json(await owner.SendAsync(HttpMethod.Post, "auth/keys", new { label = "Revoked" }), HttpStatusCode.Created);
        using var onOther = new OrchflowClient(other.BaseAddress, created.Str("api_key"));
        // The other host reads the key now and trusts that read for a while.
        Assert.That((await onOther.SendAsync(HttpMethod.Get, "runs")).Status, Is.EqualTo(HttpStatusCode.OK));

        var revoked = await owner.SendAsync(HttpMethod.Delete, $"auth/keys/{created.Str("key_id")}");
        var since = Stopwatch.StartNew();
        var answers = new List<(TimeSpan At, HttpStatusCode Status)>();
        while (since.Elapsed < Allowed)
        {
            answers.Add((since.Elapsed, (await onOther.SendAsync(HttpMethod.Get, "runs")).Status));
            await Task.Delay(200);
        }

        var afterAllowed = await onOther.SendAsync(HttpMethod.Get, "runs");
        var refusedWithin = answers.Where(a => a.Status == HttpStatusCode.Unauthorized).Select(a => (TimeSpan?)a.At).FirstOrDefault();
        await TestContext.Out.WriteLineAsync(refusedWithin is { } at
            ? $"The other host first refused the revoked key {at.TotalMilliseconds:0} ms after the revocation answered (polled every 200 ms)."
            : $"The other host refused the revoked key at the first request {since.Elapsed.TotalMilliseconds:0} ms after the revocation answered.");
        Assert.Multiple(() =>
        {
            Assert.That(revoked.Status, Is.EqualTo(HttpStatusCode.NoContent), revoked.Text);
            ApiAssert.Problem(afterAllowed, HttpStatusCode.Unauthorized, "unauthorized");
            // How soon within the window depends on the machine's load; that it never lets the key in again does not.
            Assert.That(answers.Select(a => a.Status).Append(afterAllowed.Status).SkipWhile(s => s != HttpStatusCode.Unauthorized),
                Is.All.EqualTo(HttpStatusCode.Unauthorized), "once refused, always refused");
        });
    }
}
