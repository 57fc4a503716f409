using Microsoft.AspNetCore.Http;
using Orchflow.Functions.Http;

namespace Orchflow.Tests.Functions;

/// <summary>Orchflow:Cors as configured, and the exposed headers the Functions host adds for listed origins.</summary>
[TestFixture]
public sealed class BrowserClientsTests
{
    [Test]
    public void Allows_ComparesWholeOriginsIgnoringCase()
    {
        var options = new BrowserClientOptions { AllowedOrigins = ["https://app.example.com"] };

        Assert.Multiple(() =>
        {
            Assert.That(options.Allows("https://APP.example.com"), Is.True);
            Assert.That(options.Allows("https://app.example.com.evil.test"), Is.False);
            Assert.That(options.Allows("http://app.example.com"), Is.False);
            Assert.That(options.Allows(null), Is.False);
            Assert.That(new BrowserClientOptions().Allows("https://app.example.com"), Is.False, "empty: nobody");
        });
    }

    [TestCase("https://app.example.com", true)]
    [TestCase("https://other.example.com", false)]
    [TestCase(null, false)]
    public void ExposeHeaders_ListedOriginOnly_NamesTheReadableHeaders(string? origin, bool exposed)
    {
        var http = new DefaultHttpContext();
        if (origin is not null)
        {
            http.Request.Headers.Origin = origin;
        }

        BrowserClients.ExposeHeaders(http, new BrowserClientOptions { AllowedOrigins = ["https://app.example.com"] });

        Assert.That(http.Response.Headers.AccessControlExposeHeaders.ToString(),
            Is.EqualTo(exposed ? "ETag, Location, Retry-After, RateLimit, RateLimit-Policy" : ""));
    }
}
