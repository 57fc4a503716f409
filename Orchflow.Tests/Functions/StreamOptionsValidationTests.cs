using Orchflow.Functions.Streaming;

namespace Orchflow.Tests.Functions;

/// <summary>Orchflow:Streams at start-up: the defaults pass, both settings out of range are named at once.</summary>
[TestFixture]
public sealed class StreamOptionsValidationTests
{
    readonly StreamOptionsValidation validation = new();

    [Test]
    public void Validate_Defaults_Succeeds() => Assert.That(validation.Errors(new StreamOptions()), Is.Empty);

    [Test]
    public void Validate_BothOutOfRange_ReportsEachByName() =>
        Assert.That(validation.Errors(new StreamOptions { PollMs = 9, HeartbeatSeconds = 201 }), Is.EqualTo(new[]
        {
            "Orchflow:Streams:PollMs must be from 10 to 60000, not 9.",
            "Orchflow:Streams:HeartbeatSeconds must be from 1 to 200, not 201.",
        }));
}
