namespace Orchflow.Tests;

/// <summary>Orchflow:Engine at start-up: the defaults and the bounds pass, every setting out of range is named at once.</summary>
[TestFixture]
public sealed class EngineOptionsValidationTests
{
    readonly EngineOptionsValidation validation = new();

    [Test]
    public void Validate_Defaults_Succeeds() => Assert.That(validation.Errors(new EngineOptions()), Is.Empty);

    [TestCase(1, 0, 1_000)]
    [TestCase(50, 20, 1_000_000)]
    public void Validate_AtTheBounds_Succeeds(int parallel, int rounds, int budget) =>
        Assert.That(validation.Errors(new EngineOptions { MaxParallelTasks = parallel, MaxReviewRounds = rounds, ContextBudgetChars = budget }), Is.Empty);

    [Test]
    public void Validate_EverySettingOutOfRange_ReportsEachByName()
    {
        var errors = validation.Errors(new EngineOptions { MaxParallelTasks = 0, MaxReviewRounds = 21, ContextBudgetChars = 999 });

        Assert.That(errors, Is.EqualTo(new[]
        {
            "Orchflow:Engine:MaxParallelTasks must be from 1 to 50, not 0.",
            "Orchflow:Engine:MaxReviewRounds must be from 0 to 20, not 21.",
            "Orchflow:Engine:ContextBudgetChars must be from 1000 to 1000000, not 999.",
        }));
    }
}
