using Orchflow.Tests.Support;

namespace Orchflow.Tests.LocalHost;

/// <summary>
/// The standalone host warns at start when it runs on the Development-only keys and listens beyond loopback, and only
/// then: on loopback, or with keys of its own, it says nothing of the kind.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class DevelopmentExposureTests
{
    const string Warning = "Orchflow runs on Development-only values of Orchflow:Security:ApiKeyPepper, Orchflow:Security:SecretsKey";

    [TestCase(true, false, true)]
    [TestCase(false, false, false)]
    [TestCase(true, true, false)]
    public async Task Start_DevelopmentKeysAndWhereItListens_WarnsOnlyWhenBothExposeIt(bool allInterfaces, bool ownKeys, bool warns)
    {
        var settings = new Dictionary<string, string>();
        if (ownKeys)
        {
            settings["Orchflow__Security__ApiKeyPepper"] = "pepper-of-our-own";
            settings["Orchflow__Security__SecretsKey"] = Convert.ToBase64String(new byte[32]);
        }

        var host = await TestHosts.StartAsync(settings, allInterfaces: allInterfaces);
        try
        {
            // The warning comes just before the line that says where the host listens.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (!host.Output.Contains("Orchflow is listening on", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.That(host.Output, Does.Contain("Orchflow is listening on"));
            Assert.That(host.Output.Contains(Warning, StringComparison.Ordinal), Is.EqualTo(warns), host.Output);
            if (warns)
            {
                Assert.That(host.Output, Does.Contain($"listens on http://0.0.0.0:{host.Port}, beyond loopback"));
            }
        }
        finally
        {
            await TestHosts.EndAsync(host);
        }
    }
}
