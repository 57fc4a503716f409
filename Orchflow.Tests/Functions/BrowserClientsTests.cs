using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchflow.Functions.Http;

namespace Orchflow.Tests.Functions;

/// <summary>
/// Orchflow:Cors as configured, and <see cref="BrowserClients"/>, which both hosts run before the API: a listed origin's
/// preflight answered, its requests given the headers it may read, any other origin left alone.
/// </summary>
[TestFixture]
public sealed class BrowserClientsTests
{
    const string Listed = "https://app.example.com";

    readonly BrowserClients browsers = new(
        Options.Create(new BrowserClientOptions { AllowedOrigins = [Listed] }),
        new CorsService(Options.Create(new CorsOptions()), NullLoggerFactory.Instance));

    [Test]
    public void Allows_ComparesWholeOriginsIgnoringCase()
    {
        var options = new BrowserClientOptions { AllowedOrigins = [Listed] };

        Assert.Multiple(() =>
        {
            Assert.That(options.Allows("https://APP.example.com"), Is.True);
            Assert.That(options.Allows("https://app.example.com.evil.test"), Is.False);
            Assert.That(options.Allows("http://app.example.com"), Is.False);
            Assert.That(options.Allows(null), Is.False);
            Assert.That(new BrowserClientOptions().Allows(Listed), Is.False, "empty: nobody");
        });
    }

    [Test]
    public void Handle_PreflightFromAListedOrigin_AnswersItWith204()
    {
        var http = Request("OPTIONS", Listed);
        http.Request.Headers.AccessControlRequestMethod = "POST";
        http.Request.Headers.AccessControlRequestHeaders = "x-api-key, content-type";

        var answered = browsers.Handle(http);

        Assert.Multiple(() =>
        {
            Assert.That(answered, Is.True, "the API never sees a preflight");
            Assert.That(http.Response.StatusCode, Is.EqualTo(StatusCodes.Status204NoContent));
            Assert.That(http.Response.Headers.AccessControlAllowOrigin.ToString(), Is.EqualTo(Listed));
            Assert.That(http.Response.Headers.AccessControlAllowMethods.ToString(), Does.Contain("POST"));
            Assert.That(http.Response.Headers.AccessControlMaxAge.ToString(), Is.EqualTo("3600"));
            Assert.That(http.Response.Headers.Vary.ToString(), Does.Contain("Origin"));
        });
    }

    [TestCase(Listed, true)]
    [TestCase("https://other.example.com", false)]
    [TestCase(null, false)]
    public void Handle_Request_ListedOriginOnly_MayReadTheHeadersClientsRead(string? origin, bool listed)
    {
        var http = Request("GET", origin);

        var answered = browsers.Handle(http);

        Assert.Multiple(() =>
        {
            Assert.That(answered, Is.False, "the request goes on to the API");
            Assert.That(http.Response.Headers.AccessControlAllowOrigin.ToString(), Is.EqualTo(listed ? Listed : ""));
            Assert.That(http.Response.Headers.AccessControlExposeHeaders.ToString(),
                Is.EqualTo(listed ? "ETag,Location,Retry-After,RateLimit,RateLimit-Policy" : ""));
        });
    }

    static DefaultHttpContext Request(string method, string? origin)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = method;
        if (origin is not null)
        {
            http.Request.Headers.Origin = origin;
        }

        return http;
    }
}
