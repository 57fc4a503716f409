using Orchflow.Models;

namespace Orchflow.Tests.Models;

/// <summary>Orchflow:Simulated at start-up: the defaults pass, a negative or outsized setting is named.</summary>
[TestFixture]
public sealed class SimulatedModelOptionsValidationTests
{
    readonly SimulatedModelOptionsValidation validation = new();

    [Test]
    public void Validate_Defaults_Succeeds() => Assert.That(validation.Errors(new SimulatedModelOptions()), Is.Empty);

    [Test]
    public void Validate_BothOutOfRange_ReportsEachByName()
    {
        var errors = validation.Errors(new SimulatedModelOptions { LatencyMs = -1, OutputChars = 10_000_001 });

        Assert.That(errors, Is.EqualTo(new[]
        {
            "Orchflow:Simulated:LatencyMs must be from 0 to 60000, not -1.",
            "Orchflow:Simulated:OutputChars must be from 0 to 10000000, not 10000001.",
        }));
    }
}
