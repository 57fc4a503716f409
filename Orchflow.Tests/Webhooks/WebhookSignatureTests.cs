using Orchflow.Webhooks;

namespace Orchflow.Tests.Webhooks;

/// <summary>Signing as the Standard Webhooks spec v1 defines it, checked against the spec's own example.</summary>
[TestFixture]
public sealed class WebhookSignatureTests
{
    // The example of the Standard Webhooks specification and its reference libraries.
    const string SpecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const string SpecId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const long SpecTimestamp = 1614265330;
    const string SpecBody = """{"test": 2432232314}""";

    [Test]
    public void Sign_SpecExample_GivesTheSpecSignature() =>
        Assert.That(WebhookSignature.Sign(SpecSecret, SpecId, SpecTimestamp, SpecBody), Is.EqualTo("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));

    [Test]
    public void Header_TwoSecrets_TwoSignaturesSpaceSeparatedCurrentFirst()
    {
        var other = WebhookSignature.NewSecret();

        var header = WebhookSignature.Header([other, SpecSecret], SpecId, SpecTimestamp, SpecBody);

        Assert.That(header.Split(' '), Is.EqualTo(new[]
        {
            WebhookSignature.Sign(other, SpecId, SpecTimestamp, SpecBody), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        }));
    }

    [Test]
    public void Sign_AnyChangeOfIdTimestampOrBody_ChangesTheSignature()
    {
        var signature = WebhookSignature.Sign(SpecSecret, SpecId, SpecTimestamp, SpecBody);

        Assert.Multiple(() =>
        {
            Assert.That(WebhookSignature.Sign(SpecSecret, SpecId + "x", SpecTimestamp, SpecBody), Is.Not.EqualTo(signature));
            Assert.That(WebhookSignature.Sign(SpecSecret, SpecId, SpecTimestamp + 1, SpecBody), Is.Not.EqualTo(signature));
            Assert.That(WebhookSignature.Sign(SpecSecret, SpecId, SpecTimestamp, SpecBody + " "), Is.Not.EqualTo(signature));
        });
    }

    [Test]
    public void NewSecret_IsWhsecAndBase64Of32RandomBytes()
    {
        var secrets = Enumerable.Range(0, 20).Select(_ => WebhookSignature.NewSecret()).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(secrets, Is.All.StartWith("whsec_"));
            Assert.That(secrets.Select(s => Convert.FromBase64String(s["whsec_".Length..]).Length), Is.All.EqualTo(32));
            Assert.That(secrets.Distinct().Count(), Is.EqualTo(secrets.Count));
        });
    }
}
