namespace Orchflow.Tests;

/// <summary>Orchflow:TrialRuns at start-up: none is allowed, fewer than none is not.</summary>
[TestFixture]
public sealed class AccountOptionsValidationTests
{
    readonly AccountOptionsValidation validation = new();

    [TestCase(5)]
    [TestCase(0)]
    [TestCase(1_000_000)]
    public void Validate_NoneOrMore_Succeeds(int trialRuns) =>
        Assert.That(validation.Errors(new AccountOptions { TrialRuns = trialRuns }), Is.Empty);

    [Test]
    public void Validate_Negative_FailsNamingTheSetting() =>
        Assert.That(validation.Errors(new AccountOptions { TrialRuns = -1 }), Is.EqualTo(new[] { "Orchflow:TrialRuns must be at least 0, not -1." }));
}
