using System.Net;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// The one documented answer the contract tests' host never gives, 429, on a host whose limits are tiny: per client
/// address on registration and per key elsewhere, each checked against the document with its headers.
/// </summary>
[TestFixture]
public sealed class OpenApiRateLimitContractTests : HostedTests
{
    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__RateLimit__PerMinute"] = "1",
        ["Orchflow__RateLimit__Burst"] = "2",
        ["Orchflow__RateLimit__RegisterPerMinute"] = "1",
    };

    static OpenApiContract Contract => OpenApiContract.Embedded;

    [Test]
    public async Task TooManyRequests_PerAddressAndPerKey_MatchTheDocument()
    {
        var registered = await CheckedAsync("register", Anonymous, HttpMethod.Post, "auth/register", $$"""{"name":"Limited","email":"{{Guid.NewGuid():N}}@example.com"}""");
        var refused = await CheckedAsync("register", Anonymous, HttpMethod.Post, "auth/register", $$"""{"name":"Limited","email":"{{Guid.NewGuid():N}}@example.com"}""");
        using var client = Anonymous.WithKey(registered.Json!.Str("api_key"));
        var passed = new[] { await CheckedAsync("listRuns", client, HttpMethod.Get, "runs"), await CheckedAsync("listRuns", client, HttpMethod.Get, "runs") };
        var limited = await CheckedAsync("listRuns", client, HttpMethod.Get, "runs");

        Assert.Multiple(() =>
        {
            Assert.That(registered.Status, Is.EqualTo(HttpStatusCode.Created), registered.Text);
            Assert.That(refused.Status, Is.EqualTo(HttpStatusCode.TooManyRequests), refused.Text);
            Assert.That(refused.Header("RateLimit-Policy"), Is.EqualTo("\"per-address\";q=1;w=60"));
            Assert.That(passed.Select(p => p.Status), Is.All.EqualTo(HttpStatusCode.OK));
            Assert.That(limited.Status, Is.EqualTo(HttpStatusCode.TooManyRequests), limited.Text);
            Assert.That(limited.Header("RateLimit-Policy"), Is.EqualTo("\"per-key\";q=1;w=60"));
        });
    }

    static async Task<ApiResponse> CheckedAsync(string operationId, OrchflowClient client, HttpMethod method, string path, string? body = null)
    {
        var response = await client.SendRawAsync(method, path, body);
        var problems = Contract.Check(Contract.Operation(operationId), response);
        Assert.That(problems, Is.Empty, $"{operationId} answered {(int)response.Status} in a way the document does not describe:\n{string.Join("\n", problems)}\n{response.Text}");
        return response;
    }
}
