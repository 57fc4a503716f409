using Orchflow.Models;

namespace Orchflow.Tests.Models;

/// <summary>Orchflow:Models at start-up: the defaults pass, every limit out of range is named at once.</summary>
[TestFixture]
public sealed class ModelOptionsValidationTests
{
    readonly ModelOptionsValidation validation = new();

    [Test]
    public void Validate_Defaults_Succeeds() => Assert.That(validation.Errors(new ModelOptions()), Is.Empty);

    [Test]
    public void Validate_EveryLimitOutOfRange_ReportsEachByName()
    {
        var errors = validation.Errors(new ModelOptions { RequestTimeoutSeconds = 0, MaxAttempts = 11, RetryBaseDelayMs = -1, MaxRetryDelaySeconds = 3_601 });

        Assert.That(errors, Is.EqualTo(new[]
        {
            "Orchflow:Models:RequestTimeoutSeconds must be from 1 to 3600, not 0.",
            "Orchflow:Models:MaxAttempts must be from 1 to 10, not 11.",
            "Orchflow:Models:RetryBaseDelayMs must be from 0 to 60000, not -1.",
            "Orchflow:Models:MaxRetryDelaySeconds must be from 0 to 3600, not 3601.",
        }));
    }
}
