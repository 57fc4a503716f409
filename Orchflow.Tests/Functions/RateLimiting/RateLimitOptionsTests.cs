using Orchflow.Functions.Http.RateLimiting;

namespace Orchflow.Tests.Functions.RateLimiting;

/// <summary>The documented limits, and the token batches and headers they make.</summary>
[TestFixture]
public sealed class RateLimitOptionsTests
{
    [Test]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new RateLimitOptions();

        Assert.Multiple(() =>
        {
            Assert.That(options.PerMinute, Is.EqualTo(300));
            Assert.That(options.Burst, Is.EqualTo(60));
            Assert.That(options.RegisterPerMinute, Is.EqualTo(10));
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
