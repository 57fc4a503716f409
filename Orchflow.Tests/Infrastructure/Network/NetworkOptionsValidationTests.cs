using Microsoft.Extensions.Configuration;
using Orchflow.Infrastructure.Network;

namespace Orchflow.Tests.Infrastructure.Network;

/// <summary>Orchflow:Network:AllowedPrivateRanges at start-up: ranges and single addresses pass, blanks are skipped, anything else is named.</summary>
[TestFixture]
public sealed class NetworkOptionsValidationTests
{
    readonly NetworkOptionsValidation validation = new();

    [Test]
    public void Validate_RangesAddressesAndBlanks_NoErrorAndTheRangesRead()
    {
        var options = new NetworkOptions { AllowedPrivateRanges = ["10.20.0.0/16", "fd12:3456::/48", "192.168.1.7", "::1", " ", ""] };

        Assert.Multiple(() =>
        {
            Assert.That(validation.Validate(null, options).Succeeded, Is.True);
            Assert.That(options.Ranges().Select(r => r.ToString()), Is.EqualTo(new[] { "10.20.0.0/16", "fd12:3456::/48", "192.168.1.7/32", "::1/128" }));
        });
    }

    [TestCase("10.20.0.1/16")]
    [TestCase("10.0.0.0/33")]
    [TestCase("intranet")]
    [TestCase("10.0.0.0-10.0.0.255")]
    public void Validate_NotARange_NamesTheEntry(string entry)
    {
        var result = validation.Validate(null, new NetworkOptions { AllowedPrivateRanges = ["127.0.0.0/8", entry] });

        Assert.That(result.Failures, Has.One.StartsWith($"Orchflow:Network:AllowedPrivateRanges:1 holds '{entry}', which is not a CIDR range"));
    }

    [TestCase("Orchflow:Models:AllowPrivateEndpoints")]
    [TestCase("Orchflow:Webhooks:AllowPrivateTargets")]
    [TestCase("Orchflow:Tools:AllowPrivateAddresses")]
    public void Validate_RetiredSwitchStillSet_NamesItAndItsReplacement(string retired)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [retired] = "true" }).Build();

        var result = new NetworkOptionsValidation(configuration).Validate(null, new NetworkOptions());

        Assert.That(result.Failures, Is.EqualTo(new[]
        {
            $"{retired} is no longer read: list the private ranges endpoints may reach in Orchflow:Network:AllowedPrivateRanges " +
            "(127.0.0.0/8 and ::1/128 for this machine, say), and remove it.",
        }));
    }
}
