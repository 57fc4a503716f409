namespace Orchflow.Tests;

/// <summary>Orchflow:Accounts:MaxActiveRuns at start-up: at least one run, at most 100,000, each error naming the setting.</summary>
[TestFixture]
public sealed class AccountLimitOptionsValidationTests
{
    readonly AccountLimitOptionsValidation validation = new();

    [TestCase(1)]
    [TestCase(100)]
    [TestCase(100_000)]
    public void Validate_InRange_Succeeds(int maxActiveRuns) =>
        Assert.That(validation.Errors(new AccountLimitOptions { MaxActiveRuns = maxActiveRuns }), Is.Empty);

    [TestCase(0)]
    [TestCase(-1)]
    [TestCase(100_001)]
    public void Validate_OutOfRange_FailsNamingTheSetting(int maxActiveRuns) =>
        Assert.That(validation.Errors(new AccountLimitOptions { MaxActiveRuns = maxActiveRuns }),
            Is.EqualTo(new[] { $"Orchflow:Accounts:MaxActiveRuns must be from 1 to 100000, not {maxActiveRuns}." }));

    [Test]
    public void Default_IsOneHundred() => Assert.That(new AccountLimitOptions().MaxActiveRuns, Is.EqualTo(100));
}
