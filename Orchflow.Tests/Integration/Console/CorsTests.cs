using System.Net;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Console;

/// <summary>
/// Browser clients on another origin (docs/api.md, "Browser clients"): a listed origin's preflight is allowed with the
/// API's request headers, its responses expose the headers a client reads; any other origin gets no CORS headers.
/// </summary>
[TestFixture]
public sealed class CorsTests : HostedTests
{
    const string Listed = "https://app.example.com";
    const string Other = "https://elsewhere.example.com";

    HttpClient http = null!;

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__Cors__AllowedOrigins__0"] = Listed,
        ["Orchflow__Cors__AllowedOrigins__1"] = "http://localhost:5173",
    };

    [OneTimeSetUp]
    public void CreateClient() => http = new HttpClient { BaseAddress = new Uri(Host.BaseAddress, "/") };

    [OneTimeTearDown]
    public void DisposeClient() => http?.Dispose();

    [TestCase("POST", "api/v1/runs")]
    [TestCase("GET", "api/v1/runs/run_0000000000000000000a/events")]
    [TestCase("DELETE", "api/v1/runs/run_0000000000000000000a")]
    [TestCase("POST", "api/v1/runs/run_0000000000000000000a/tasks/T1/complete")]
    public async Task Preflight_FromAListedOrigin_AllowsTheApisRequestHeaders(string method, string path)
    {
        using var response = await PreflightAsync(path, Listed, method, "x-api-key, content-type, idempotency-key, if-none-match, last-event-id");

        Assert.Multiple(() =>
        {
            Assert.That((int)response.StatusCode, Is.EqualTo(204), "a preflight needs no key and is answered before the API");
            Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.EqualTo(Listed));
            Assert.That(Header(response, "Access-Control-Allow-Methods")?.Split(',', StringSplitOptions.TrimEntries), Does.Contain(method));
            Assert.That(Header(response, "Access-Control-Allow-Headers")?.Split(',', StringSplitOptions.TrimEntries).Select(h => h.ToLowerInvariant()),
                Is.SupersetOf(new[] { "x-api-key", "content-type", "idempotency-key", "if-none-match", "last-event-id" }));
            Assert.That(Header(response, "Access-Control-Allow-Credentials"), Is.Null, "the key is a header, never a cookie");
        });
    }

    [Test]
    public async Task Preflight_AskingForAHeaderTheApiDoesNotRead_DoesNotAllowIt()
    {
        using var response = await PreflightAsync("api/v1/runs", Listed, "POST", "x-api-key, x-something-else");

        Assert.That(Header(response, "Access-Control-Allow-Headers") ?? "", Does.Not.Contain("x-something-else").IgnoreCase);
    }

    [Test]
    public async Task Response_ToAListedOrigin_ExposesTheHeadersClientsRead()
    {
        using var client = await RegisterAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/runs");
        request.Headers.Add("Origin", Listed);
        request.Headers.Add("X-API-Key", client.ApiKey);

        using var response = await http.SendAsync(request);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(Header(response, "Access-Control-Allow-Origin"), Is.EqualTo(Listed));
            Assert.That(Header(response, "Access-Control-Expose-Headers")?.Split(',', StringSplitOptions.TrimEntries),
                Is.EquivalentTo(new[] { "ETag", "Location", "Retry-After", "RateLimit", "RateLimit-Policy" }));
            Assert.That(Header(response, "Vary"), Does.Contain("Origin"));
        });
    }

    [Test]
    public async Task Response_ToAnOriginNotListed_HasNoCorsHeadersAndOptionsStays405()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/health");
        request.Headers.Add("Origin", Other);

        using var response = await http.SendAsync(request);
        using var preflight = await PreflightAsync("api/v1/runs", Other, "POST", "x-api-key");

        Assert.Multiple(() =>
        {
            Assert.That(CorsHeaders(response), Is.Empty);
            Assert.That(CorsHeaders(preflight), Is.Empty);
            Assert.That(preflight.StatusCode, Is.EqualTo(HttpStatusCode.MethodNotAllowed));
        });
    }

    [Test]
    public async Task Response_WithoutAnOrigin_IsAsWithoutCors()
    {
        using var response = await http.GetAsync("api/v1/health");

        Assert.That(CorsHeaders(response), Is.Empty);
    }

    Task<HttpResponseMessage> PreflightAsync(string path, string origin, string method, string headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", headers);
        return http.SendAsync(request);
    }

    static IEnumerable<string> CorsHeaders(HttpResponseMessage response) =>
        response.Headers.Concat(response.Content.Headers).Select(h => h.Key).Where(k => k.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));

    static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) :
        response.Content.Headers.TryGetValues(name, out var content) ? string.Join(", ", content) : null;
}
