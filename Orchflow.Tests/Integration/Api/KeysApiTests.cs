using System.Net;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>An account's API keys over real HTTP on the standalone host: issued once, listed without the key, revoked.</summary>
[TestFixture]
[Order(1)]
public sealed class KeysApiTests : HostedTests
{
    [Test]
    public async Task CreateKey_WithLabel_Returns201WithTheKeyOnceAndTheKeyWorks()
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "auth/keys", new { label = "CI pipeline" });

        var body = ApiAssert.Json(response, HttpStatusCode.Created);
        using var second = client.WithKey(body.Str("api_key"));
        var account = await second.SendAsync(HttpMethod.Get, "account");
        Assert.Multiple(() =>
        {
            Assert.That(body.Str("key_id"), Does.StartWith("key_"));
            Assert.That(body.Str("api_key"), Does.StartWith("orch_"));
            Assert.That(body.Str("label"), Is.EqualTo("CI pipeline"));
            Assert.That(DateTimeOffset.Parse(body.Str("created_at")), Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(5)));
            Assert.That(response.Header("Cache-Control"), Is.EqualTo("no-store"), "the key is shown once: no cache may keep it");
            Assert.That(account.Status, Is.EqualTo(HttpStatusCode.OK), account.Text);
        });
    }

    [Test]
    public async Task ListKeys_AfterRegistrationAndOneMore_ListsBothWithHintsAndNeverAKey()
    {
        using var client = await RegisterAsync();
        var created = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, "auth/keys", new { label = "Second" }), HttpStatusCode.Created);

        var response = await client.SendAsync(HttpMethod.Get, "auth/keys");

        var keys = ApiAssert.Json(response, HttpStatusCode.OK)["keys"]!.AsArray();
        Assert.Multiple(() =>
        {
            Assert.That(keys.Select(k => k!.Str("label")), Is.EqualTo(new[] { "Registration", "Second" }), "oldest first");
            Assert.That(keys[0]!.Str("key_hint"), Is.EqualTo("…" + client.ApiKey![^4..]));
            Assert.That(keys[1]!.Str("key_id"), Is.EqualTo(created.Str("key_id")));
            Assert.That(keys[0]!["last_used_at"]?.GetValue<string>(), Is.Not.Null, "the registration key was just used to list");
            Assert.That(response.Text, Does.Not.Contain(client.ApiKey).And.Not.Contain(created.Str("api_key")));
        });
    }

    [Test]
    public async Task RevokeKey_AnotherKey_Returns204AndTheRevokedKeyIsRefusedOnTheNextRequest()
    {
        using var client = await RegisterAsync();
        var created = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, "auth/keys", new { label = "Temporary" }), HttpStatusCode.Created);
        using var temporary = client.WithKey(created.Str("api_key"));
        Assert.That((await temporary.SendAsync(HttpMethod.Get, "runs")).Status, Is.EqualTo(HttpStatusCode.OK));

        var revoked = await client.SendAsync(HttpMethod.Delete, $"auth/keys/{created.Str("key_id")}");
        var after = await temporary.SendAsync(HttpMethod.Get, "runs");
        var listed = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "auth/keys"), HttpStatusCode.OK)["keys"]!.AsArray();

        Assert.Multiple(() =>
        {
            Assert.That(revoked.Status, Is.EqualTo(HttpStatusCode.NoContent), revoked.Text);
            Assert.That(revoked.Text, Is.Empty);
            ApiAssert.Problem(after, HttpStatusCode.Unauthorized, "unauthorized");
            Assert.That(listed.Select(k => k!.Str("key_id")), Does.Not.Contain(created.Str("key_id")));
        });
    }

    [Test]
    public async Task RevokeKey_TheKeyInUse_WorksWhileAnotherIsLeftAndTheCallerIsRefusedAfter()
    {
        using var client = await RegisterAsync();
        var created = ApiAssert.Json(await client.SendAsync(HttpMethod.Post, "auth/keys", new { label = "Next" }), HttpStatusCode.Created);
        var own = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "auth/keys"), HttpStatusCode.OK)["keys"]![0]!.Str("key_id");

        var revoked = await client.SendAsync(HttpMethod.Delete, $"auth/keys/{own}");
        var after = await client.SendAsync(HttpMethod.Get, "auth/keys");
        using var next = client.WithKey(created.Str("api_key"));

        Assert.Multiple(async () =>
        {
            Assert.That(revoked.Status, Is.EqualTo(HttpStatusCode.NoContent), revoked.Text);
            ApiAssert.Problem(after, HttpStatusCode.Unauthorized, "unauthorized");
            Assert.That((await next.SendAsync(HttpMethod.Get, "auth/keys")).Status, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task RevokeKey_LastKey_Returns409AndTheKeyStillWorks()
    {
        using var client = await RegisterAsync();
        var own = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "auth/keys"), HttpStatusCode.OK)["keys"]![0]!.Str("key_id");

        var refused = await client.SendAsync(HttpMethod.Delete, $"auth/keys/{own}");

        var problem = ApiAssert.Problem(refused, HttpStatusCode.Conflict, "conflict");
        Assert.Multiple(async () =>
        {
            Assert.That(problem.Str("detail"), Does.Contain("last"));
            Assert.That((await client.SendAsync(HttpMethod.Get, "runs")).Status, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [TestCase("key_0000000000000000000a", TestName = "RevokeKey_UnknownId_Returns404")]
    [TestCase("not-a-key-id", TestName = "RevokeKey_MalformedId_Returns404")]
    public async Task RevokeKey_NoSuchKey_Returns404(string keyId)
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Delete, $"auth/keys/{keyId}");

        ApiAssert.Problem(response, HttpStatusCode.NotFound, "not_found");
    }

    [Test]
    public async Task RevokeKey_AnotherAccountsKey_Returns404AndTheKeyStillWorks()
    {
        using var owner = await RegisterAsync();
        var created = ApiAssert.Json(await owner.SendAsync(HttpMethod.Post, "auth/keys", new { label = "Owner's" }), HttpStatusCode.Created);
        using var stranger = await RegisterAsync();

        var response = await stranger.SendAsync(HttpMethod.Delete, $"auth/keys/{created.Str("key_id")}");

        ApiAssert.Problem(response, HttpStatusCode.NotFound, "not_found");
        using var ownersKey = owner.WithKey(created.Str("api_key"));
        Assert.That((await ownersKey.SendAsync(HttpMethod.Get, "runs")).Status, Is.EqualTo(HttpStatusCode.OK));
    }

    [TestCase("""{}""", TestName = "CreateKey_MissingLabel_Returns422NamingLabel")]
    [TestCase("""{"label":"   "}""", TestName = "CreateKey_BlankLabel_Returns422NamingLabel")]
    [TestCase("""{"label":7}""", TestName = "CreateKey_LabelOfWrongType_Returns422NamingLabel")]
    public async Task CreateKey_BadLabel_Returns422(string body)
    {
        using var client = await RegisterAsync();

        var response = await client.SendRawAsync(HttpMethod.Post, "auth/keys", body);

        ApiAssert.Invalid(response, "label");
    }

    [Test]
    public async Task CreateKey_LabelTooLong_Returns422NamingLabel()
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Post, "auth/keys", new { label = new string('k', 101) });

        ApiAssert.Invalid(response, "label");
    }

    [Test]
    public async Task CreateKey_NotJson_Returns422NamingBody()
    {
        using var client = await RegisterAsync();

        var response = await client.SendRawAsync(HttpMethod.Post, "auth/keys", "label=x");

        ApiAssert.Invalid(response, "body");
    }

    [Test]
    public async Task CreateKey_PastTwentyKeys_Returns409()
    {
        using var client = await RegisterAsync();
        for (var i = 1; i < 20; i++)
        {
            ApiAssert.Json(await client.SendAsync(HttpMethod.Post, "auth/keys", new { label = $"k{i}" }), HttpStatusCode.Created);
        }

        var refused = await client.SendAsync(HttpMethod.Post, "auth/keys", new { label = "one too many" });

        ApiAssert.Problem(refused, HttpStatusCode.Conflict, "conflict");
    }

    [TestCase("GET", "auth/keys")]
    [TestCase("POST", "auth/keys")]
    [TestCase("DELETE", "auth/keys/key_0000000000000000000a")]
    public async Task KeyRoutes_WithoutAKey_Return401(string method, string path)
    {
        var response = await Anonymous.SendAsync(new HttpMethod(method), path, method == "POST" ? new { label = "x" } : null);

        ApiAssert.Problem(response, HttpStatusCode.Unauthorized, "unauthorized");
    }
}
