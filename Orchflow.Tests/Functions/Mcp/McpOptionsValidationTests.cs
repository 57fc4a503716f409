using Orchflow.Functions.Mcp;

namespace Orchflow.Tests.Functions.Mcp;

[TestFixture]
public sealed class McpOptionsValidationTests
{
    const string Key = "orch_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    static IEnumerable<string> Failures(McpOptions options) => new McpOptionsValidation().Validate(null, options).Failures ?? [];

    [Test]
    public void Validate_Defaults_Pass() => Assert.That(Failures(new McpOptions()), Is.Empty);

    [Test]
    public void Validate_LoopbackKeyOutsideDevelopment_RefusedNamingTheSetting() =>
        Assert.That(Failures(new McpOptions { LoopbackApiKey = Key }), Has.One.StartsWith("Orchflow:Mcp:LoopbackApiKey is for Development only"));

    [Test]
    public void Validate_LoopbackKeyInDevelopment_PassesWhenItIsAKey()
    {
        Assert.That(Failures(new McpOptions { LoopbackApiKey = Key, IsDevelopment = true }), Is.Empty);
        Assert.That(Failures(new McpOptions { LoopbackApiKey = "secret", IsDevelopment = true }), Has.One.Contains("must be an Orchflow API key"));
    }

    [TestCase(99)]
    [TestCase(60_001)]
    public void Validate_PollIntervalOutOfRange_Refused(int ms) =>
        Assert.That(Failures(new McpOptions { PollIntervalMs = ms }), Has.One.StartsWith("Orchflow:Mcp:PollIntervalMs"));
}
