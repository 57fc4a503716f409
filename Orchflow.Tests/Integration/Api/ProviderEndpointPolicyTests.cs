using System.Net;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// A host running as a deployment does (outside Development, no private range allowed) refuses, at registration,
/// provider endpoints that are plain http or name a private, local, reserved or metadata address in any of its forms:
/// a registered endpoint must not become a way into the deployment's network.
/// </summary>
[TestFixture]
public sealed class ProviderEndpointPolicyTests : HostedTests
{
    protected override IReadOnlyDictionary<string, string> HostSettings => TestHosts.Deployment;

    [TestCase("https://127.0.0.1:11434/v1")]
    [TestCase("https://localhost:1234/v1")]
    [TestCase("https://[::1]:8000/v1")]
    [TestCase("https://10.0.0.5/v1")]
    [TestCase("https://192.168.1.20:8080/v1")]
    [TestCase("https://100.64.0.9/v1")]
    [TestCase("https://198.18.0.1/v1")]
    [TestCase("https://[fd00::1]/v1")]
    [TestCase("https://[::ffff:10.0.0.1]/v1")]
    [TestCase("https://[64:ff9b::a00:1]/v1")]
    [TestCase("https://[2002:a00:1::1]/v1")]
    [TestCase("https://169.254.169.254/metadata")]
    [TestCase("https://[fd00:ec2::254]/latest")]
    [TestCase("https://168.63.129.16/machine")]
    public async Task CreateProvider_PrivateEndpoint_Returns422NamingEndpoint(string endpoint)
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "providers",
            new { provider = "openai_compatible", api_key = "sk-private", label = "Local", model = "llama3.1:8b", endpoint });

        Assert.That(ApiAssert.Invalid(response, "endpoint"), Does.Contain("private or local address"));
        var list = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "providers"), HttpStatusCode.OK);
        Assert.That(list["providers"]!.AsArray(), Is.Empty, "nothing was stored");
    }

    [TestCase("http://llm.example.com/v1")]
    [TestCase("http://127.0.0.1:11434/v1")]
    public async Task CreateProvider_PlainHttpOutsideDevelopment_Returns422AskingForHttps(string endpoint)
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "providers",
            new { provider = "openai_compatible", api_key = "sk-http", label = "Plain", model = "llama3.1:8b", endpoint });

        Assert.That(ApiAssert.Invalid(response, "endpoint"), Does.Contain("must use https"));
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

        Assert.That(ApiAssert.Invalid(response, "endpoint"), Does.Contain("must not hold credentials"));
    }
}
