using Orchflow.Functions.Streaming;

namespace Orchflow.Tests.Functions;

/// <summary>Orchflow:Streams at start-up: the defaults pass, settings out of range are named at once, and the idle probe interval is never shorter than the poll.</summary>
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

    [Test]
    public void Validate_IdlePollShorterThanThePoll_IsNamed() =>
        Assert.That(validation.Errors(new StreamOptions { PollMs = 1000, IdlePollMs = 500 }), Is.EqualTo(new[]
        {
            "Orchflow:Streams:IdlePollMs must be from 1000 to 60000, not 500.",
        }));
}
