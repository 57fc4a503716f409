using Orchflow.Tools;

namespace Orchflow.Tests.Tools;

[TestFixture]
public sealed class ToolOptionsValidationTests
{
    [Test]
    public void Validate_Defaults_Succeed() =>
        Assert.That(new ToolOptionsValidation().Validate(null, new ToolOptions()).Succeeded, Is.True);

    [Test]
    public void Validate_TimeoutsOutOfRange_EveryOneNamed()
    {
        var result = new ToolOptionsValidation().Validate(null, new ToolOptions { CallTimeoutMs = 61_000, ConnectTimeoutMs = 10 });

        Assert.That(result.Failures, Is.EquivalentTo(new[]
        {
            "Orchflow:Tools:CallTimeoutMs must be from 100 to 60000, not 61000.",
            "Orchflow:Tools:ConnectTimeoutMs must be from 100 to 120000, not 10.",
        }));
    }
}
