using Orchflow.Functions.Http;

namespace Orchflow.Tests.Functions;

/// <summary>Orchflow:Cors:AllowedOrigins at start-up: origins pass, every entry that is not one is named.</summary>
[TestFixture]
public sealed class BrowserClientOptionsValidationTests
{
    readonly BrowserClientOptionsValidation validation = new();

    [Test]
    public void Validate_Defaults_Succeeds() => Assert.That(validation.Errors(new BrowserClientOptions()), Is.Empty);

    [TestCase("https://app.example.com")]
    [TestCase("http://localhost:5173")]
    [TestCase("https://sub.example.co.uk:8443")]
    public void Validate_AnOrigin_Succeeds(string origin) =>
        Assert.That(validation.Errors(new BrowserClientOptions { AllowedOrigins = [origin] }), Is.Empty);

    [TestCase("*")]
    [TestCase("app.example.com")]
    [TestCase("https://app.example.com/")]
    [TestCase("https://app.example.com/console")]
    [TestCase("ftp://app.example.com")]
    [TestCase("https://*.example.com")]
    [TestCase("")]
    public void Validate_NotAnOrigin_FailsNamingIt(string origin) =>
        Assert.That(validation.Errors(new BrowserClientOptions { AllowedOrigins = [origin] }),
            Has.One.StartsWith($"Orchflow:Cors:AllowedOrigins holds '{origin}', which is not an origin"));

    [Test]
    public void Validate_SeveralEntriesWrong_NamesEachOne()
    {
        var errors = validation.Errors(new BrowserClientOptions { AllowedOrigins = ["*", "https://app.example.com", "app.example.com/"] });

        Assert.That(errors.Select(e => e.Split(' ')[2]), Is.EqualTo(new[] { "'*',", "'app.example.com/'," }));
    }
}
