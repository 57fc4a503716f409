using System.Net;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Health;

/// <summary>
/// GET /health tells the truth about storage: a host on an Azurite of its own answers 503 naming storage while that
/// Azurite is down, and 200 again once it is back, without the storage's own error in the body.
/// </summary>
[TestFixture]
// Beside another fixture: an Azurite and a host of its own, on tables and a task hub no other fixture uses.
[Parallelizable(ParallelScope.Self)]
public sealed class HealthTests
{
    Azurite azurite = null!;
    OrchflowHost host = null!;
    OrchflowClient anonymous = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        azurite = await Azurite.StartAsync();
        host = await TestHosts.StartAsync(connectionString: azurite.ConnectionString);
        anonymous = new OrchflowClient(host.BaseAddress);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        anonymous?.Dispose();
        if (host is not null)
        {
            if (TestContext.CurrentContext.Result.FailCount > 0)
            {
                await TestContext.Out.WriteLineAsync("Host output:\n" + host.Output);
            }

            await TestHosts.EndAsync(host);
        }

        if (azurite is not null)
        {
            await azurite.DisposeAsync();
        }
    }

    [Test]
    public async Task Health_StorageStoppedThenRestarted_Answers503NamingStorageThen200()
    {
        var healthy = ApiAssert.Json(await anonymous.SendAsync(HttpMethod.Get, "health"), HttpStatusCode.OK);
        Assert.Multiple(() =>
        {
            Assert.That(healthy.Str("status"), Is.EqualTo("ok"));
            Assert.That(healthy.Str("version"), Is.Not.Empty);
            Assert.That(healthy["checks"]!["storage"]!.GetValue<string>(), Is.EqualTo("ok"));
            Assert.That(healthy["checks"]!["durable_backend"]!.GetValue<string>(), Is.EqualTo("ok"));
        });

        await azurite.StopAsync();
        var down = await WaitForHealthAsync(HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30));
        var problem = ApiAssert.Problem(down, HttpStatusCode.ServiceUnavailable, "unavailable");
        Assert.Multiple(() =>
        {
            Assert.That(problem.Str("detail"), Does.StartWith("Storage"));
            Assert.That(problem["checks"]!["storage"]!.GetValue<string>(), Is.EqualTo("unreachable"));
            Assert.That(down.Header("Cache-Control"), Is.EqualTo("no-store"));
            foreach (var leak in new[] { "127.0.0.1", azurite.TablePort.ToString(), "Exception", "refused", "devstoreaccount1", "   at " })
            {
                Assert.That(down.Text, Does.Not.Contain(leak), "no storage detail, exception text or type name in the body");
            }
        });

        await azurite.StartAgainAsync();
        var back = await WaitForHealthAsync(HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        Assert.That(back.Json!["checks"]!["storage"]!.GetValue<string>(), Is.EqualTo("ok"));
    }

    [Test]
    public async Task Health_ManyCallsAtOnce_AnswerFromOneCachedCheck()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => anonymous.SendAsync(HttpMethod.Get, "health")));

        Assert.That(answers.Select(a => a.Status), Is.All.EqualTo(HttpStatusCode.OK));
    }

    async Task<ApiResponse> WaitForHealthAsync(HttpStatusCode status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var response = await anonymous.SendAsync(HttpMethod.Get, "health");
            if (response.Status == status || DateTime.UtcNow > deadline)
            {
                return response;
            }

            await Task.Delay(250);
        }
    }
}
