using Orchflow.Functions.Http.RateLimiting;

namespace Orchflow.Tests.Functions.RateLimiting;

/// <summary>Orchflow:RateLimit at start-up: limits that could not work and a header that is no header name are named at once.</summary>
[TestFixture]
public sealed class RateLimitOptionsValidationTests
{
    readonly RateLimitOptionsValidation validation = new();

    [Test]
    public void Validate_Defaults_Succeeds() => Assert.That(validation.Errors(new RateLimitOptions()), Is.Empty);

    [Test]
    public void Validate_BehindAProxy_Succeeds() =>
        Assert.That(validation.Errors(new RateLimitOptions { ClientAddressHeader = "X-Forwarded-For" }), Is.Empty);

    [Test]
    public void Validate_EverySettingWrong_ReportsEachByName()
    {
        var errors = validation.Errors(new RateLimitOptions { PerMinute = 0, Burst = 0, RegisterPerMinute = -1, ClientAddressHeader = "X-Forwarded-For: 1.2.3.4" });

        Assert.That(errors, Is.EqualTo(new[]
        {
            "Orchflow:RateLimit:PerMinute must be from 1 to 100000000, not 0.",
            "Orchflow:RateLimit:Burst must be from 1 to 100000000, not 0.",
            "Orchflow:RateLimit:RegisterPerMinute must be from 1 to 100000000, not -1.",
            "Orchflow:RateLimit:ClientAddressHeader must be a header name such as X-Forwarded-For, not 'X-Forwarded-For: 1.2.3.4'.",
        }));
    }
}
