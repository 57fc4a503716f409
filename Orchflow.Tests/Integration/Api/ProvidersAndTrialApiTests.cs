using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// Bring-your-own-key providers and the managed trial allowance, on a host that gives each account one trial run
/// so that running out of it is one request away.
/// </summary>
[TestFixture]
public sealed class ProvidersAndTrialApiTests : HostedTests
{
    static readonly string[] Kinds = ["openai", "azure_openai", "gemini", "anthropic", "openai_compatible"];

    /// <summary>Stands in for Gemini's OpenAI-compatible endpoint, so runs on the registered providers really run.</summary>
    FakeChatServer gemini = null!;

    protected override async Task BeforeHostStartsAsync() => gemini = await FakeChatServer.StartAsync();

    protected override IReadOnlyDictionary<string, string> HostSettings =>
        new Dictionary<string, string> { ["Orchflow__TrialRuns"] = "1" };

    [OneTimeTearDown]
    public async Task StopModelServerAsync() => await gemini.DisposeAsync();

    /// <summary>A provider key no other test uses, so finding it in a response can only mean it leaked.</summary>
    static string NewProviderKey() => "sk-test-" + Guid.NewGuid().ToString("N") + "Zq9X";

    Task<(string ProviderId, string Key)> CreateProviderAsync(OrchflowClient client, string label = "My Gemini key") =>
        client.CreateProviderAsync(new Uri(gemini.BaseUri, "v1beta/openai"), "gemini", "gemini-2.0-flash-lite", label);

    static async Task<JsonArray> ListProvidersAsync(OrchflowClient client) =>
        ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "providers"), HttpStatusCode.OK)["providers"]!.AsArray();

    [Test]
    public async Task Register_HostWithOneTrialRun_ReportsOneTrialRunRemaining()
    {
        using var anonymous = new OrchflowClient(Host.BaseAddress);

        var response = await anonymous.SendAsync(HttpMethod.Post, "auth/register", new { name = "Trial", email = $"{Guid.NewGuid():N}@example.com" });

        Assert.That(ApiAssert.Json(response, HttpStatusCode.Created)["trial_runs_remaining"]!.GetValue<int>(), Is.EqualTo(1));
    }

    [Test]
    public async Task StartRun_TrialUsedUp_Returns402TellingToRegisterAProvider()
    {
        using var client = await RegisterAsync();
        await client.StartRunAsync(new { task = RunScenarios.Goal });

        var response = await client.SendAsync(HttpMethod.Post, "runs", new { task = RunScenarios.Goal });

        var problem = ApiAssert.Problem(response, HttpStatusCode.PaymentRequired, "trial_exhausted");
        Assert.That(problem.Str("detail"), Does.Contain("provider").IgnoreCase.And.Contain("provider_id"));
        var list = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "runs"), HttpStatusCode.OK);
        Assert.That(list["total"]!.GetValue<int>(), Is.EqualTo(1));
    }

    [Test]
    public async Task StartRun_TwoConcurrentWithOneTrialRun_ExactlyOneAccepted()
    {
        using var client = await RegisterAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 2)
            .Select(i => client.SendAsync(HttpMethod.Post, "runs", new { task = $"Research market {i}. Draft a summary." })));

        Assert.That(responses.Select(r => r.Status), Is.EquivalentTo(new[] { HttpStatusCode.Accepted, HttpStatusCode.PaymentRequired }),
            string.Join("\n", responses.Select(r => r.Text)));
        ApiAssert.Problem(responses.Single(r => r.Status == HttpStatusCode.PaymentRequired), HttpStatusCode.PaymentRequired, "trial_exhausted");
        var list = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "runs"), HttpStatusCode.OK);
        Assert.That(list["total"]!.GetValue<int>(), Is.EqualTo(1));
    }

    [Test]
    public async Task StartRun_WithOwnProvider_Returns202WithoutUsingTheTrialRun()
    {
        using var client = await RegisterAsync();
        var (providerId, _) = await CreateProviderAsync(client);

        var withProvider = await client.SendAsync(HttpMethod.Post, "runs", new { task = RunScenarios.Goal, provider_id = providerId });
        var secondWithProvider = await client.SendAsync(HttpMethod.Post, "runs", new { task = RunScenarios.Goal, provider_id = providerId });
        var onTrial = await client.SendAsync(HttpMethod.Post, "runs", new { task = RunScenarios.Goal });
        var trialUsedUp = await client.SendAsync(HttpMethod.Post, "runs", new { task = RunScenarios.Goal });

        var run = ApiAssert.Json(withProvider, HttpStatusCode.Accepted);
        Assert.Multiple(() =>
        {
            Assert.That(run.Str("provider_id"), Is.EqualTo(providerId));
            Assert.That(secondWithProvider.Status, Is.EqualTo(HttpStatusCode.Accepted), secondWithProvider.Text);
            Assert.That(onTrial.Status, Is.EqualTo(HttpStatusCode.Accepted), "The provider runs must not have used the trial run: " + onTrial.Text);
        });
        ApiAssert.Problem(trialUsedUp, HttpStatusCode.PaymentRequired, "trial_exhausted");
    }

    [Test]
    public async Task StartRun_WithProviderAfterTrialUsedUp_Returns202()
    {
        using var client = await RegisterAsync();
        await client.StartRunAsync(new { task = RunScenarios.Goal });
        var (providerId, _) = await CreateProviderAsync(client);

        var response = await client.SendAsync(HttpMethod.Post, "runs", new { task = RunScenarios.Goal, provider_id = providerId });

        var runId = ApiAssert.Json(response, HttpStatusCode.Accepted).Str("run_id");
        var done = await client.WaitForStatusAsync(runId, "completed");
        Assert.That(done.Str("final_output"), Is.EqualTo("Fake model output."), "written by the provider's model");
    }

    static IEnumerable<TestCaseData> ValidProviders()
    {
        yield return new TestCaseData("openai", "gpt-4o-mini", null);
        yield return new TestCaseData("gemini", "gemini-2.0-flash-lite", null);
        yield return new TestCaseData("anthropic", "claude-sonnet-4", null);
        yield return new TestCaseData("azure_openai", "gpt-4o", "https://contoso.openai.azure.com/");
        yield return new TestCaseData("openai_compatible", "llama-3.1-70b", "http://localhost:11434/v1");
    }

    [TestCaseSource(nameof(ValidProviders))]
    public async Task CreateProvider_ValidKind_Returns201WithIdAndKeyHintOnly(string kind, string model, string? endpoint)
    {
        using var client = await RegisterAsync();
        var key = NewProviderKey();

        var response = await client.SendAsync(HttpMethod.Post, "providers",
            new { provider = kind, api_key = key, label = $"My {kind} key", model, endpoint });

        var body = ApiAssert.Json(response, HttpStatusCode.Created);
        Assert.Multiple(() =>
        {
            Assert.That(body.Str("provider_id"), Does.Match("^prv_[0-9a-z]{16}$"));
            Assert.That(body.Str("provider"), Is.EqualTo(kind));
            Assert.That(body.Str("label"), Is.EqualTo($"My {kind} key"));
            Assert.That(body.Str("model"), Is.EqualTo(model));
            Assert.That(body["endpoint"]?.GetValue<string>(), Is.EqualTo(endpoint));
            Assert.That(body.Str("key_hint"), Is.EqualTo("…" + key[^4..]));
            Assert.That(DateTimeOffset.Parse(body.Str("created_at")), Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(5)));
            Assert.That(response.Text, Does.Not.Contain(key));
            Assert.That(response.Text, Does.Not.Contain(key[..12]));
            Assert.That(response.Header("Cache-Control"), Is.EqualTo("no-store"));
        });
    }

    [Test]
    public async Task CreateProvider_UnknownKind_Returns422ListingAllowedKinds()
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "providers",
            new { provider = "mistral", api_key = NewProviderKey(), label = "x", model = "mistral-large" });

        var message = ApiAssert.Invalid(response, "provider");
        Assert.That(message, Does.Contain("mistral").Or.Contain("one of"));
        foreach (var kind in Kinds)
        {
            Assert.That(message, Does.Contain(kind));
        }

        Assert.That(await ListProvidersAsync(client), Is.Empty);
    }

    [TestCase("azure_openai")]
    [TestCase("openai_compatible")]
    public async Task CreateProvider_EndpointKindWithoutEndpoint_Returns422NamingEndpoint(string kind)
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "providers",
            new { provider = kind, api_key = NewProviderKey(), label = "x", model = "gpt-4o" });

        ApiAssert.Invalid(response, "endpoint");
        Assert.That(await ListProvidersAsync(client), Is.Empty);
    }

    [TestCase("not a url")]
    [TestCase("contoso.openai.azure.com")]
    [TestCase("ftp://contoso.openai.azure.com/")]
    [TestCase("/relative/path")]
    public async Task CreateProvider_EndpointNotAnHttpUrl_Returns422NamingEndpoint(string endpoint)
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "providers",
            new { provider = "openai_compatible", api_key = NewProviderKey(), label = "x", model = "llama", endpoint });

        ApiAssert.Invalid(response, "endpoint");
    }

    [TestCase("""{"provider":"openai","label":"x","model":"gpt-4o"}""", "api_key", TestName = "CreateProvider_MissingApiKey_Returns422NamingApiKey")]
    [TestCase("""{"provider":"openai","api_key":"   ","model":"gpt-4o"}""", "api_key", TestName = "CreateProvider_BlankApiKey_Returns422NamingApiKey")]
    [TestCase("""{"provider":"gemini","api_key":"sk-test-abcdefghijkl"}""", "model", TestName = "CreateProvider_MissingModel_Returns422NamingModel")]
    [TestCase("""{"api_key":"sk-test-abcdefghijkl","model":"gpt-4o"}""", "provider", TestName = "CreateProvider_MissingKind_Returns422NamingProvider")]
    [TestCase("""{"provider":["openai"],"api_key":"sk-test-abcdefghijkl","model":"gpt-4o"}""", "provider", TestName = "CreateProvider_KindOfWrongType_Returns422NamingProvider")]
    [TestCase("provider=openai", "body", TestName = "CreateProvider_NonJsonBody_Returns422NamingBody")]
    public async Task CreateProvider_InvalidBody_Returns422NamingField(string body, string field)
    {
        using var client = await RegisterAsync();

        var response = await client.SendRawAsync(HttpMethod.Post, "providers", body);

        ApiAssert.Invalid(response, field);
        Assert.That(response.Text, Does.Not.Contain("sk-test-abcdefghijkl"));
    }

    [Test]
    public async Task ListProviders_TwoProviders_ListsBothWithoutKeyMaterial()
    {
        using var client = await RegisterAsync();
        var (first, firstKey) = await CreateProviderAsync(client, "First");
        var (second, secondKey) = await CreateProviderAsync(client, "Second");

        var response = await client.SendAsync(HttpMethod.Get, "providers");

        var providers = ApiAssert.Json(response, HttpStatusCode.OK)["providers"]!.AsArray();
        Assert.Multiple(() =>
        {
            Assert.That(providers.Select(p => p!.Str("provider_id")), Is.EquivalentTo(new[] { first, second }));
            Assert.That(providers.Select(p => p!.Str("label")), Is.EquivalentTo(new[] { "First", "Second" }));
            Assert.That(providers.Select(p => p!.Str("key_hint")), Is.EquivalentTo(new[] { "…" + firstKey[^4..], "…" + secondKey[^4..] }));
            Assert.That(providers.SelectMany(p => p!.AsObject().Select(m => m.Key)), Has.None.Contains("secret").And.None.EqualTo("api_key"));
            Assert.That(response.Text, Does.Not.Contain(firstKey).And.Not.Contain(secondKey));
            Assert.That(response.Text, Does.Not.Contain(firstKey[..16]).And.Not.Contain(secondKey[..16]));
        });
    }

    [Test]
    public async Task DeleteProvider_OwnProvider_Returns204ThenGoneAndSecondDeleteIs404()
    {
        using var client = await RegisterAsync();
        var (providerId, _) = await CreateProviderAsync(client, "Doomed");
        var (kept, _) = await CreateProviderAsync(client, "Kept");

        var deleted = await client.SendAsync(HttpMethod.Delete, $"providers/{providerId}");

        Assert.Multiple(() =>
        {
            Assert.That(deleted.Status, Is.EqualTo(HttpStatusCode.NoContent), deleted.Text);
            Assert.That(deleted.Text, Is.Empty);
        });
        Assert.That((await ListProvidersAsync(client)).Select(p => p!.Str("provider_id")), Is.EqualTo(new[] { kept }));
        ApiAssert.Problem(await client.SendAsync(HttpMethod.Delete, $"providers/{providerId}"), HttpStatusCode.NotFound, "not_found");
        ApiAssert.Problem(await client.SendAsync(HttpMethod.Post, "runs", new { task = RunScenarios.Goal, provider_id = providerId }),
            HttpStatusCode.NotFound, "not_found");
    }

    [TestCase("prv_0000000000000000")]
    [TestCase("not-a-provider")]
    [TestCase("PRV_ABC")]
    public async Task DeleteProvider_UnknownOrMalformedId_Returns404NotFound(string providerId)
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Delete, $"providers/{providerId}");

        ApiAssert.Problem(response, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task Providers_AnotherAccountsProvider_Return404AndStayHidden()
    {
        using var owner = await RegisterAsync();
        using var stranger = await RegisterAsync();
        var (providerId, _) = await CreateProviderAsync(owner);

        var delete = await stranger.SendAsync(HttpMethod.Delete, $"providers/{providerId}");
        var run = await stranger.SendAsync(HttpMethod.Post, "runs", new { task = RunScenarios.Goal, provider_id = providerId });
        var strangersList = await ListProvidersAsync(stranger);
        var ownersList = await ListProvidersAsync(owner);

        ApiAssert.Problem(delete, HttpStatusCode.NotFound, "not_found");
        ApiAssert.Problem(run, HttpStatusCode.NotFound, "not_found");
        Assert.Multiple(() =>
        {
            Assert.That(strangersList, Is.Empty);
            Assert.That(ownersList.Select(p => p!.Str("provider_id")), Is.EqualTo(new[] { providerId }));
        });
    }
}
