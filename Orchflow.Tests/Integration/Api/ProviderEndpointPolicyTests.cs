using System.Net;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// A deployment that does not call private addresses (the default outside development) refuses, at registration,
/// provider endpoints that name one: a registered endpoint must not become a way into the deployment's network.
/// </summary>
[TestFixture]
public sealed class ProviderEndpointPolicyTests : HostedTests
{
    protected override IReadOnlyDictionary<string, string> HostSettings =>
        new Dictionary<string, string> { ["Orchflow__Models__AllowPrivateEndpoints"] = "false" };

    [TestCase("http://127.0.0.1:11434/v1")]
    [TestCase("http://localhost:1234/v1")]
    [TestCase("http://[::1]:8000/v1")]
    [TestCase("http://10.0.0.5/v1")]
    [TestCase("http://192.168.1.20:8080/v1")]
    [TestCase("http://169.254.169.254/metadata")]
    public async Task CreateProvider_PrivateEndpoint_Returns422NamingEndpoint(string endpoint)
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "providers",
            new { provider = "openai_compatible", api_key = "sk-private", label = "Local", model = "llama3.1:8b", endpoint });

        Assert.That(ApiAssert.Invalid(response, "endpoint"), Does.Contain("private or local address"));
        var list = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "providers"), HttpStatusCode.OK);
        Assert.That(list["providers"]!.AsArray(), Is.Empty, "nothing was stored");
    }

    [Test]
    public async Task CreateProvider_PublicEndpoint_Returns201()
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "providers",
            new { provider = "openai_compatible", api_key = "sk-public", label = "Hosted vLLM", model = "llama3.1:70b", endpoint = "https://llm.example.com/v1" });

        ApiAssert.Json(response, HttpStatusCode.Created);
    }

    [Test]
    public async Task CreateProvider_CredentialsInTheEndpoint_Returns422()
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "providers",
            new { provider = "openai_compatible", api_key = "sk-x", label = "x", model = "m", endpoint = "https://user:pass@llm.example.com/v1" });

        Assert.That(ApiAssert.Invalid(response, "endpoint"), Does.Contain("without credentials"));
    }
}
