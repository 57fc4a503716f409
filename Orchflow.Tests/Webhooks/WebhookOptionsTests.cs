using Orchflow.Webhooks;

namespace Orchflow.Tests.Webhooks;

/// <summary>The retry schedule: what docs/api.md promises by default, jitter at both ends, Retry-After, and the cap.</summary>
[TestFixture]
public sealed class WebhookOptionsTests
{
    static readonly WebhookOptions Defaults = new();

    [Test]
    public void Defaults_FirstRetryWithinTenSecondsEvenAtTheMostJitter() =>
        Assert.That(Defaults.RetryDelay(1, null, random: 1.0), Is.LessThanOrEqualTo(TimeSpan.FromSeconds(10)));

    [Test]
    public void Defaults_AtLeastSixAttemptsOverAtLeastTenMinutesEvenAtTheLeastJitter()
    {
        var span = Enumerable.Range(1, Defaults.MaxAttempts - 1).Aggregate(TimeSpan.Zero, (sum, n) => sum + Defaults.RetryDelay(n, null, random: 0.0));

        Assert.Multiple(() =>
        {
            Assert.That(Defaults.MaxAttempts, Is.GreaterThanOrEqualTo(6));
            Assert.That(span, Is.GreaterThanOrEqualTo(TimeSpan.FromMinutes(10)));
            Assert.That(Defaults.Timeout, Is.EqualTo(TimeSpan.FromSeconds(15)));
        });
    }

    [Test]
    public void RetryDelay_GrowsByTheFactorWithinTheJitter()
    {
        var options = new WebhookOptions { FirstRetryDelayMs = 1000, RetryBackoffFactor = 3 };

        Assert.Multiple(() =>
        {
            Assert.That(options.RetryDelay(1, null, 0.5), Is.EqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(options.RetryDelay(3, null, 0.5), Is.EqualTo(TimeSpan.FromSeconds(9)));
            Assert.That(options.RetryDelay(3, null, 0.0), Is.EqualTo(TimeSpan.FromSeconds(6.75)));
            Assert.That(options.RetryDelay(3, null, 1.0), Is.EqualTo(TimeSpan.FromSeconds(11.25)));
        });
    }

    [Test]
    public void RetryDelay_RetryAfterLongerThanTheBackoff_WaitsAsAskedUpToTheCap()
    {
        var options = new WebhookOptions { FirstRetryDelayMs = 1000, MaxRetryDelaySeconds = 60 };

        Assert.Multiple(() =>
        {
            Assert.That(options.RetryDelay(1, TimeSpan.FromSeconds(30), 0.5), Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(options.RetryDelay(1, TimeSpan.FromMilliseconds(10), 0.5), Is.EqualTo(TimeSpan.FromSeconds(1)), "never sooner than the backoff");
            Assert.That(options.RetryDelay(1, TimeSpan.FromHours(5), 0.5), Is.EqualTo(TimeSpan.FromSeconds(60)), "capped");
            Assert.That(options.RetryDelay(30, null, 1.0), Is.EqualTo(TimeSpan.FromSeconds(60)), "capped");
        });
    }
}
