using System.Net;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// Registering, listing, deleting and rotating webhooks and reading their deliveries over real HTTP: what each answers,
/// every validation error named by its field, the per-account cap, and another account's webhooks never shown.
/// </summary>
[TestFixture]
public sealed class WebhooksApiTests : HostedTests
{
    const int Cap = 3;

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__Webhooks__MaxPerAccount"] = Cap.ToString(),
    };

    static Task<ApiResponse> CreateAsync(OrchflowClient client, object body) => client.SendAsync(HttpMethod.Post, "webhooks", body);

    [Test]
    public async Task CreateWebhook_Valid_Returns201WithTheSecretOnceAndNoStore()
    {
        using var client = await RegisterAsync();

        var response = await CreateAsync(client, new
        {
            url = "https://hooks.example.com/orchflow", events = new[] { "run.waiting_human", "task.failed" }, description = "Backend",
        });

        var created = ApiAssert.Json(response, HttpStatusCode.Created);
        var secret = created.Str("secret");
        Assert.Multiple(() =>
        {
            Assert.That(created.Str("webhook_id"), Does.Match("^whk_[0-9a-z]{20}$"));
            Assert.That(created.Str("url"), Is.EqualTo("https://hooks.example.com/orchflow"));
            Assert.That(created["events"]!.AsArray().Select(e => e!.GetValue<string>()), Is.EqualTo(new[] { "run.waiting_human", "task.failed" }));
            Assert.That(created.Str("description"), Is.EqualTo("Backend"));
            Assert.That(created["enabled"]!.GetValue<bool>(), Is.True);
            Assert.That(DateTimeOffset.Parse(created.Str("created_at")), Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(1)));
            Assert.That(secret, Does.StartWith("whsec_"));
            Assert.That(Convert.FromBase64String(secret["whsec_".Length..]), Has.Length.EqualTo(32));
            Assert.That(response.Header("Cache-Control"), Does.Contain("no-store"));
            Assert.That(response.Location, Does.EndWith("/api/v1/webhooks/" + created.Str("webhook_id")));
        });
    }

    [Test]
    public async Task CreateWebhook_NoEvents_SubscribesToTheFourMomentsABackendActsOn()
    {
        using var client = await RegisterAsync();

        var created = ApiAssert.Json(await CreateAsync(client, new { url = "https://hooks.example.com/x" }), HttpStatusCode.Created);

        Assert.Multiple(() =>
        {
            Assert.That(created["events"]!.AsArray().Select(e => e!.GetValue<string>()),
                Is.EqualTo(new[] { "run.waiting_human", "run.completed", "run.failed", "run.cancelled" }));
            Assert.That(created["description"], Is.Null);
        });
    }

    [Test]
    public async Task CreateWebhook_HttpToLoopbackInDevelopment_Returns201()
    {
        using var client = await RegisterAsync();

        var response = await CreateAsync(client, new { url = "http://127.0.0.1:8080/hooks" });

        ApiAssert.Json(response, HttpStatusCode.Created);
    }

    [TestCase("""{"events": ["run.completed"]}""", "url", "required")]
    [TestCase("""{"url": ""}""", "url", "empty")]
    [TestCase("""{"url": "ftp://hooks.example.com/x"}""", "url", "https")]
    [TestCase("""{"url": "/relative/hook"}""", "url", "https")]
    [TestCase("""{"url": "http://hooks.example.com/x"}""", "url", "https")]
    [TestCase("""{"url": "https://user:secret@hooks.example.com/x"}""", "url", "credentials")]
    [TestCase("""{"url": "https://hooks.example.com/x", "events": []}""", "events", "at least one")]
    [TestCase("""{"url": "https://hooks.example.com/x", "events": ["run.exploded"]}""", "events[0]", "event type")]
    [TestCase("""{"url": "https://hooks.example.com/x", "events": ["RUN.COMPLETED"]}""", "events[0]", "event type")]
    [TestCase("""{"url": "https://hooks.example.com/x", "events": ["run.completed", "run.completed"]}""", "events[1]", "once")]
    [TestCase("""{"url": "https://hooks.example.com/x", "events": [null]}""", "events[0]", "required")]
    [TestCase("""{"url": "https://hooks.example.com/x", "events": "run.completed"}""", "events", "wrong type")]
    [TestCase("""{"url": "https://hooks.example.com/x", "description": 5}""", "description", "wrong type")]
    [TestCase("""{"url": "https://hooks.example.com/x", "secret": "whsec_mine"}""", "secret", "not a field")]
    public async Task CreateWebhook_Invalid_Returns422NamingTheField(string body, string field, string says)
    {
        using var client = await RegisterAsync();

        var response = await client.SendRawAsync(HttpMethod.Post, "webhooks", body);

        Assert.That(ApiAssert.Invalid(response, field), Does.Contain(says).IgnoreCase);
        var list = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "webhooks"), HttpStatusCode.OK);
        Assert.That(list["webhooks"]!.AsArray(), Is.Empty, "nothing was stored");
    }

    [Test]
    public async Task CreateWebhook_UrlAndDescriptionOverTheirBounds_Returns422NamingEach()
    {
        using var client = await RegisterAsync();
        var url = "https://hooks.example.com/" + new string('u', 2001 - "https://hooks.example.com/".Length);

        var response = await CreateAsync(client, new { url, description = new string('d', 501) });

        Assert.Multiple(() =>
        {
            Assert.That(ApiAssert.Invalid(response, "url"), Does.Contain("2000"));
            Assert.That(ApiAssert.Invalid(response, "description"), Does.Contain("500"));
        });
    }

    [Test]
    public async Task CreateWebhook_UrlAndDescriptionAtTheirBounds_Returns201()
    {
        using var client = await RegisterAsync();
        var url = "https://hooks.example.com/" + new string('u', 2000 - "https://hooks.example.com/".Length);

        var created = ApiAssert.Json(await CreateAsync(client, new { url, description = new string('é', 500) }), HttpStatusCode.Created);

        Assert.That(created.Str("url"), Is.EqualTo(url));
    }

    [Test]
    public async Task CreateWebhook_BeyondTheCap_Returns409AndStoresNothing()
    {
        using var client = await RegisterAsync();
        for (var i = 0; i < Cap; i++)
        {
            ApiAssert.Json(await CreateAsync(client, new { url = $"https://hooks.example.com/{i}" }), HttpStatusCode.Created);
        }

        var response = await CreateAsync(client, new { url = "https://hooks.example.com/one-more" });

        ApiAssert.Problem(response, HttpStatusCode.Conflict, "conflict");
        var list = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "webhooks"), HttpStatusCode.OK);
        Assert.That(list["webhooks"]!.AsArray(), Has.Count.EqualTo(Cap));
    }

    [Test]
    public async Task ListWebhooks_ShowsTheAccountsOwnOldestFirstWithoutSecrets()
    {
        using var client = await RegisterAsync();
        using var other = await RegisterAsync();
        var first = ApiAssert.Json(await CreateAsync(client, new { url = "https://hooks.example.com/first" }), HttpStatusCode.Created);
        var second = ApiAssert.Json(await CreateAsync(client, new { url = "https://hooks.example.com/second" }), HttpStatusCode.Created);
        ApiAssert.Json(await CreateAsync(other, new { url = "https://hooks.example.com/others" }), HttpStatusCode.Created);

        var response = await client.SendAsync(HttpMethod.Get, "webhooks");

        var list = ApiAssert.Json(response, HttpStatusCode.OK)["webhooks"]!.AsArray();
        Assert.Multiple(() =>
        {
            Assert.That(list.Select(w => w!.Str("webhook_id")), Is.EqualTo(new[] { first.Str("webhook_id"), second.Str("webhook_id") }));
            Assert.That(response.Text, Does.Not.Contain("whsec_").And.Not.Contain(first.Str("secret")["whsec_".Length..]));
            Assert.That(list.Select(w => w!["secret"]), Is.All.Null);
            Assert.That(list.Select(w => w!["enabled"]!.GetValue<bool>()), Is.All.True);
        });
    }

    [Test]
    public async Task DeleteWebhook_Own_Returns204ThenIsGoneEverywhere()
    {
        using var client = await RegisterAsync();
        var id = ApiAssert.Json(await CreateAsync(client, new { url = "https://hooks.example.com/x" }), HttpStatusCode.Created).Str("webhook_id");

        var deleted = await client.SendAsync(HttpMethod.Delete, $"webhooks/{id}");

        Assert.That(deleted.Status, Is.EqualTo(HttpStatusCode.NoContent), deleted.Text);
        var list = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "webhooks"), HttpStatusCode.OK);
        var afterwards = new[]
        {
            await client.SendAsync(HttpMethod.Delete, $"webhooks/{id}"),
            await client.SendAsync(HttpMethod.Post, $"webhooks/{id}/rotate-secret"),
            await client.SendAsync(HttpMethod.Get, $"webhooks/{id}/deliveries"),
        };
        Assert.Multiple(() =>
        {
            Assert.That(list["webhooks"]!.AsArray(), Is.Empty);
            foreach (var answer in afterwards)
            {
                ApiAssert.Problem(answer, HttpStatusCode.NotFound, "not_found");
            }
        });
    }

    [Test]
    public async Task RotateSecret_Own_Returns200WithANewSecretOnceAndNoStore()
    {
        using var client = await RegisterAsync();
        var created = ApiAssert.Json(await CreateAsync(client, new { url = "https://hooks.example.com/x" }), HttpStatusCode.Created);

        var first = await client.SendAsync(HttpMethod.Post, $"webhooks/{created.Str("webhook_id")}/rotate-secret");
        var second = await client.SendAsync(HttpMethod.Post, $"webhooks/{created.Str("webhook_id")}/rotate-secret");

        var rotated = ApiAssert.Json(first, HttpStatusCode.OK);
        var again = ApiAssert.Json(second, HttpStatusCode.OK);
        Assert.Multiple(() =>
        {
            Assert.That(rotated.Str("webhook_id"), Is.EqualTo(created.Str("webhook_id")));
            Assert.That(rotated.Str("secret"), Does.StartWith("whsec_").And.Not.EqualTo(created.Str("secret")));
            Assert.That(again.Str("secret"), Is.Not.EqualTo(rotated.Str("secret")));
            Assert.That(first.Header("Cache-Control"), Does.Contain("no-store"));
            Assert.That(DateTimeOffset.Parse(rotated.Str("previous_secret_expires_at")),
                Is.EqualTo(DateTimeOffset.UtcNow.AddHours(24)).Within(TimeSpan.FromMinutes(1)));
        });
    }

    [Test]
    public async Task ListDeliveries_NewWebhook_Returns200Empty()
    {
        using var client = await RegisterAsync();
        var id = ApiAssert.Json(await CreateAsync(client, new { url = "https://hooks.example.com/x" }), HttpStatusCode.Created).Str("webhook_id");

        var response = await client.SendAsync(HttpMethod.Get, $"webhooks/{id}/deliveries?limit=100");

        Assert.That(ApiAssert.Json(response, HttpStatusCode.OK)["deliveries"]!.AsArray(), Is.Empty);
    }

    [TestCase("0")]
    [TestCase("101")]
    [TestCase("abc")]
    [TestCase("5%00")]
    public async Task ListDeliveries_LimitOutOfRange_Returns422NamingLimit(string limit)
    {
        using var client = await RegisterAsync();
        var id = ApiAssert.Json(await CreateAsync(client, new { url = "https://hooks.example.com/x" }), HttpStatusCode.Created).Str("webhook_id");

        var response = await client.SendAsync(HttpMethod.Get, $"webhooks/{id}/deliveries?limit={limit}");

        ApiAssert.Invalid(response, "limit");
    }

    [Test]
    public async Task AnotherAccountsWebhook_EveryRoute_Returns404AndChangesNothing()
    {
        using var owner = await RegisterAsync();
        using var intruder = await RegisterAsync();
        var created = ApiAssert.Json(await CreateAsync(owner, new { url = "https://hooks.example.com/mine" }), HttpStatusCode.Created);
        var id = created.Str("webhook_id");

        var answers = new[]
        {
            await intruder.SendAsync(HttpMethod.Delete, $"webhooks/{id}"),
            await intruder.SendAsync(HttpMethod.Post, $"webhooks/{id}/rotate-secret"),
            await intruder.SendAsync(HttpMethod.Get, $"webhooks/{id}/deliveries"),
        };

        var list = ApiAssert.Json(await owner.SendAsync(HttpMethod.Get, "webhooks"), HttpStatusCode.OK)["webhooks"]!.AsArray();
        var intruders = ApiAssert.Json(await intruder.SendAsync(HttpMethod.Get, "webhooks"), HttpStatusCode.OK)["webhooks"]!.AsArray();
        Assert.Multiple(() =>
        {
            foreach (var answer in answers)
            {
                ApiAssert.Problem(answer, HttpStatusCode.NotFound, "not_found");
            }

            Assert.That(list.Select(w => w!.Str("webhook_id")), Is.EqualTo(new[] { id }), "the owner's webhook is still there");
            Assert.That(intruders, Is.Empty);
        });
    }

    [TestCase("whk_")]
    [TestCase("prv_0000000000000000")]
    [TestCase("whk_ABCDEFGHIJKLMNOPQRST")]
    [TestCase("whk_00000000000000000000")]
    public async Task UnknownOrMalformedWebhookId_Returns404(string id)
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, $"webhooks/{id}/rotate-secret");

        ApiAssert.Problem(response, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task Webhooks_WithoutApiKey_Return401()
    {
        var answers = new[]
        {
            await Anonymous.SendAsync(HttpMethod.Get, "webhooks"),
            await Anonymous.SendAsync(HttpMethod.Post, "webhooks", new { url = "https://hooks.example.com/x" }),
            await Anonymous.SendAsync(HttpMethod.Post, "webhooks/whk_00000000000000000000/rotate-secret"),
        };

        Assert.Multiple(() =>
        {
            foreach (var answer in answers)
            {
                ApiAssert.Problem(answer, HttpStatusCode.Unauthorized, "unauthorized");
            }
        });
    }
}
