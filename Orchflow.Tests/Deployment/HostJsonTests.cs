using System.Globalization;
using System.Text.Json.Nodes;

namespace Orchflow.Tests.Deployment;

/// <summary>
/// host.json as the Functions host in Azure reads it: the durable backend's settings are all here (Flex's scaler reads
/// them nowhere else), the time limit of an invocation is chosen, and telemetry is configured in ways OpenTelemetry
/// mode honours.
/// </summary>
[TestFixture]
public sealed class HostJsonTests
{
    JsonNode host = null!;

    [OneTimeSetUp]
    public void ReadHostJson() => host = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "host.json")))!;

    [Test]
    public void DurableTask_NamesTheHubTheAzureStorageProviderAndItsPartitionCount()
    {
        var durable = host["extensions"]!["durableTask"]!;

        Assert.Multiple(() =>
        {
            Assert.That((string?)durable["hubName"], Is.EqualTo("orchflow"));
            Assert.That((string?)durable["storageProvider"]!["type"], Is.EqualTo("AzureStorage"), "the only provider the app references");
            Assert.That(durable["storageProvider"]!["partitionCount"]!.GetValue<int>(), Is.InRange(1, 16), "fixed when the task hub is created");
        });
    }

    [Test]
    public void FunctionTimeout_IsSetAndBounded()
    {
        var text = (string?)host["functionTimeout"];

        Assert.Multiple(() =>
        {
            Assert.That(TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var timeout), Is.True, $"functionTimeout '{text}'");
            // Long enough for the longest activity (a model call retried at its limits); bounded, so a hung call ends.
            Assert.That(timeout, Is.GreaterThanOrEqualTo(TimeSpan.FromMinutes(15)).And.LessThanOrEqualTo(TimeSpan.FromHours(2)));
        });
    }

    [Test]
    public void Logging_DefaultsToWarnings_WithNoSamplingSettingsOpenTelemetryModeIgnores()
    {
        var logging = host["logging"]!;

        Assert.Multiple(() =>
        {
            Assert.That((string?)host["telemetryMode"], Is.EqualTo("OpenTelemetry"));
            Assert.That((string?)logging["logLevel"]!["default"], Is.EqualTo("Warning"));
            // The trace sampler is the OTEL_TRACES_SAMPLER app setting (InfraSnapshotTests).
            Assert.That(logging["applicationInsights"], Is.Null, "OpenTelemetry mode ignores applicationInsights.samplingSettings");
        });
    }
}
