using Orchflow.Functions.Http.RateLimiting;

namespace Orchflow.Tests.Functions.RateLimiting;

/// <summary>Limits that could not work stop the host at start-up, naming the settings.</summary>
[TestFixture]
public sealed class RateLimitOptionsTests
{
    [TestCase(0, 60, 10)]
    [TestCase(300, 0, 10)]
    [TestCase(300, 60, -1)]
    public void Validate_LimitBelowOne_FailsNamingTheSettings(int perMinute, int burst, int registerPerMinute)
    {
        var options = new RateLimitOptions { PerMinute = perMinute, Burst = burst, RegisterPerMinute = registerPerMinute };

        var e = Assert.Throws<InvalidOperationException>(options.Validate);

        Assert.That(e!.Message, Does.Contain("Orchflow:RateLimit:PerMinute"));
    }

    [Test]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new RateLimitOptions();

        Assert.Multiple(() =>
        {
            Assert.That(options.PerMinute, Is.EqualTo(300));
            Assert.That(options.Burst, Is.EqualTo(60));
            Assert.That(options.RegisterPerMinute, Is.EqualTo(10));
            Assert.DoesNotThrow(options.Validate);
        });
    }

    [Test]
    public void Policy_Defaults_ClaimSixTokensAtATimeAndSayTheirHeader()
    {
        var policy = new RateLimitPolicy("per-key", 300, 60);

        Assert.Multiple(() =>
        {
            Assert.That(policy.Batch, Is.EqualTo(6));
            Assert.That(policy.Header, Is.EqualTo("\"per-key\";q=300;w=60"));
            Assert.That(policy.Shape.TokensPerSecond, Is.EqualTo(5));
        });
    }
}
