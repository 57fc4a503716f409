using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>
/// The public docs' 429 (API.md, Rate limits) on a host with small buckets: one key's flood is answered 429 with
/// Retry-After while another key is served, registration is limited per client address, and health never is.
/// </summary>
[TestFixture]
public sealed class RateLimitTests : HostedTests
{
    const int PerMinute = 60;
    const int Burst = 5;

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__RateLimit__PerMinute"] = PerMinute.ToString(CultureInfo.InvariantCulture),
        ["Orchflow__RateLimit__Burst"] = Burst.ToString(CultureInfo.InvariantCulture),
        ["Orchflow__RateLimit__RegisterPerMinute"] = "3",
    };

    [Test]
    public async Task ProtectedRoute_FloodFromOneKey_Returns429WithRetryAfterWhileAnotherKeyIsServed()
    {
        using var flooder = await RegisterAsync();
        using var other = await RegisterAsync();
        using var http = new RawHttpClient(Host.BaseAddress);

        var flood = await Task.WhenAll(Enumerable.Range(0, 4 * Burst).Select(_ => http.SendAsync(Get("/api/v1/runs", flooder.ApiKey))));
        var otherKey = await http.SendAsync(Get("/api/v1/runs", other.ApiKey));

        var limited = flood.Where(r => r.Status == 429).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(flood.Select(r => r.Status), Is.All.AnyOf(200, 429));
            Assert.That(limited, Has.Count.GreaterThanOrEqualTo(2 * Burst), "a flood of four bursts is mostly limited");
            Assert.That(otherKey.Status, Is.EqualTo(200), "another key is not limited by the flood: " + otherKey.Text);
            foreach (var response in limited.Take(3))
            {
                Assert.That(response.Code, Is.EqualTo("rate_limited"), response.Text);
                Assert.That(ErrorRules.ProblemViolations(response), Is.Empty, response.Text);
                Assert.That(int.TryParse(response.Header("Retry-After"), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds >= 1,
                    Is.True, $"Retry-After is '{response.Header("Retry-After")}', not whole seconds ≥ 1");
                Assert.That(response.Header("RateLimit-Policy"), Does.Contain($"q={PerMinute}").And.Contain("w=60"));
                Assert.That(response.Header("RateLimit"), Is.Not.Null.And.Contains("r="));
            }
        });
    }

    [Test]
    public async Task Register_OverThePerAddressLimit_Returns429RateLimited()
    {
        using var http = new RawHttpClient(Host.BaseAddress);

        var answers = new List<RawResponse>();
        for (var i = 0; i < 8; i++)
        {
            var body = new JsonObject { ["name"] = "Limited", ["email"] = $"{Guid.NewGuid():N}@example.com" }.ToJsonString();
            answers.Add(await http.SendAsync(new RawRequest("POST", "/api/v1/auth/register", [], Encoding.UTF8.GetBytes(body), "application/json")));
        }

        Assert.Multiple(() =>
        {
            Assert.That(answers.Select(r => r.Status), Is.All.AnyOf(201, 429));
            Assert.That(answers.Count(r => r.Status == 429), Is.GreaterThanOrEqualTo(4), string.Join("\n", answers.Select(r => $"{r.Status} {r.Text}")));
            Assert.That(answers.Where(r => r.Status == 429).Select(r => r.Code), Is.All.EqualTo("rate_limited"));
            Assert.That(answers.Where(r => r.Status == 429).Select(r => r.Header("Retry-After")), Is.All.Not.Null);
        });
    }

    [Test]
    public async Task Health_ManyCallsAtOnce_NeverLimited()
    {
        using var http = new RawHttpClient(Host.BaseAddress);

        var answers = await Task.WhenAll(Enumerable.Range(0, 10 * Burst).Select(_ => http.SendAsync(Get("/api/v1/health", null))));

        Assert.That(answers.Select(r => r.Status), Is.All.EqualTo(200));
    }

    static RawRequest Get(string path, string? key) => new("GET", path, key is null ? [] : [new("X-API-Key", key)]);
}
