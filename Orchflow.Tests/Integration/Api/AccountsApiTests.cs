using System.Net;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>Registration, API key authentication and the public routes, over real HTTP on the standalone Host.</summary>
[TestFixture]
// Beside the other fixtures on the default host, so that they share it (the pool keeps a host for the next fixture only).
[Order(1)]
public sealed class AccountsApiTests : HostedTests
{
    const string WellFormedUnknownKey = "orch_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";


    static string NewEmail() => $"{Guid.NewGuid():N}@example.com";

    [Test]
    public async Task Register_NewEmail_Returns201WithKeyOnceAndTrialRuns()
    {
        var email = NewEmail();

        var response = await Anonymous.SendAsync(HttpMethod.Post, "auth/register", new { name = "Tarun", email });

        var body = ApiAssert.Json(response, HttpStatusCode.Created);
        Assert.Multiple(() =>
        {
            Assert.That(body.Str("account_id"), Does.StartWith("acc_"));
            Assert.That(body.Str("name"), Is.EqualTo("Tarun"));
            Assert.That(body.Str("email"), Is.EqualTo(email));
            Assert.That(body.Str("api_key"), Does.StartWith("orch_").And.Length.GreaterThanOrEqualTo("orch_".Length + 43));
            Assert.That(body["trial_runs_remaining"]!.GetValue<int>(), Is.EqualTo(5));
            Assert.That(DateTimeOffset.Parse(body.Str("created_at")), Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(5)));
            Assert.That(response.Header("Cache-Control"), Is.EqualTo("no-store"), "the key is shown once: no cache may keep it");
        });
    }

    [Test]
    public async Task Register_ReturnedKey_AuthenticatesProtectedRoutes()
    {
        var registered = await Anonymous.SendAsync(HttpMethod.Post, "auth/register", new { name = "Key user", email = NewEmail() });
        using var client = Anonymous.WithKey(ApiAssert.Json(registered, HttpStatusCode.Created).Str("api_key"));

        var runs = await client.SendAsync(HttpMethod.Get, "runs");

        var body = ApiAssert.Json(runs, HttpStatusCode.OK);
        Assert.That(body["total"]!.GetValue<int>(), Is.Zero);
    }

    [TestCase("dup@example.com", "dup@example.com")]
    [TestCase("Mixed.Case@Example.com", "mixed.case@example.COM")]
    public async Task Register_EmailAlreadyRegistered_Returns409Conflict(string first, string second)
    {
        // The cases share a host: make each address unique while keeping its casing.
        var unique = Guid.NewGuid().ToString("N")[..8];
        var firstEmail = unique + first;
        var secondEmail = unique + second;
        var created = await Anonymous.SendAsync(HttpMethod.Post, "auth/register", new { name = "First", email = firstEmail });
        ApiAssert.Json(created, HttpStatusCode.Created);

        var again = await Anonymous.SendAsync(HttpMethod.Post, "auth/register", new { name = "Second", email = secondEmail });

        var problem = ApiAssert.Problem(again, HttpStatusCode.Conflict, "conflict");
        Assert.That(problem.Str("detail"), Does.Contain("already registered"));
    }

    [TestCase("""{"email":"someone@example.com"}""", "name", TestName = "Register_MissingName_Returns422NamingName")]
    [TestCase("""{"name":"   ","email":"someone@example.com"}""", "name", TestName = "Register_BlankName_Returns422NamingName")]
    [TestCase("""{"name":"Someone"}""", "email", TestName = "Register_MissingEmail_Returns422NamingEmail")]
    [TestCase("""{"name":"Someone","email":"not-an-email"}""", "email", TestName = "Register_InvalidEmail_Returns422NamingEmail")]
    [TestCase("""{"name":"Someone","email":"a@b"}""", "email", TestName = "Register_EmailWithoutDomainDot_Returns422NamingEmail")]
    [TestCase("""{"name":5,"email":"someone@example.com"}""", "name", TestName = "Register_NameOfWrongType_Returns422NamingName")]
    [TestCase("""{"name":"Someone","email":["a@example.com"]}""", "email", TestName = "Register_EmailOfWrongType_Returns422NamingEmail")]
    [TestCase("this is not json", "body", TestName = "Register_NonJsonBody_Returns422NamingBody")]
    [TestCase("""[{"name":"Someone","email":"someone@example.com"}]""", "body", TestName = "Register_JsonArrayBody_Returns422NamingBody")]
    [TestCase("null", "body", TestName = "Register_JsonNullBody_Returns422NamingBody")]
    [TestCase("", "body", TestName = "Register_EmptyBody_Returns422NamingBody")]
    public async Task Register_InvalidBody_Returns422NamingTheField(string body, string field)
    {
        var response = await Anonymous.SendRawAsync(HttpMethod.Post, "auth/register", body);

        ApiAssert.Invalid(response, field);
    }

    [Test]
    public async Task Register_BodyOver256KiB_Returns413PayloadTooLarge()
    {
        var body = $$"""{"name":"{{new string('a', 300 * 1024)}}","email":"{{NewEmail()}}"}""";

        var response = await Anonymous.SendRawAsync(HttpMethod.Post, "auth/register", body);

        ApiAssert.Problem(response, HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
    }

    static IEnumerable<TestCaseData> ProtectedRoutes()
    {
        const string runId = "run_0000000000000000000a";
        yield return new TestCaseData("GET", "runs");
        yield return new TestCaseData("POST", "runs");
        yield return new TestCaseData("GET", $"runs/{runId}");
        yield return new TestCaseData("GET", $"runs/{runId}/tasks");
        yield return new TestCaseData("DELETE", $"runs/{runId}");
        yield return new TestCaseData("POST", $"runs/{runId}/tasks/T1/complete");
        yield return new TestCaseData("GET", "providers");
        yield return new TestCaseData("POST", "providers");
        yield return new TestCaseData("DELETE", "providers/prv_0000000000000000");
    }

    [TestCaseSource(nameof(ProtectedRoutes))]
    public async Task ProtectedRoute_WithoutApiKey_Returns401Unauthorized(string method, string path)
    {
        var response = await Anonymous.SendRawAsync(new HttpMethod(method), path, method == "POST" ? "{}" : null);

        ApiAssert.Problem(response, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [TestCaseSource(nameof(ProtectedRoutes))]
    public async Task ProtectedRoute_MalformedApiKey_Returns401Unauthorized(string method, string path)
    {
        using var client = Anonymous.WithKey("Bearer not-an-orchflow-key");

        var response = await client.SendRawAsync(new HttpMethod(method), path, method == "POST" ? "{}" : null);

        ApiAssert.Problem(response, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [TestCaseSource(nameof(ProtectedRoutes))]
    public async Task ProtectedRoute_WellFormedUnknownApiKey_Returns401Unauthorized(string method, string path)
    {
        using var client = Anonymous.WithKey(WellFormedUnknownKey);

        var response = await client.SendRawAsync(new HttpMethod(method), path, method == "POST" ? "{}" : null);

        ApiAssert.Problem(response, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task ListAgentTemplates_WithoutApiKey_ReturnsBuiltInTemplates()
    {
        var response = await Anonymous.SendAsync(HttpMethod.Get, "agents/templates");

        var agents = ApiAssert.Json(response, HttpStatusCode.OK)["agents"]!.AsArray();
        Assert.That(agents.Select(a => a!.Str("name")), Is.SupersetOf(new[] { "research", "analyst", "writer" }));
        Assert.Multiple(() =>
        {
            foreach (var agent in agents.Select(a => a!))
            {
                Assert.That(agent.Str("description").Trim(), Is.Not.Empty, agent.ToJsonString());
                Assert.That(agent.Str("system_prompt").Trim(), Is.Not.Empty, agent.ToJsonString());
            }
        });
    }

    [Test]
    public async Task ListAgentTemplates_WithUnknownApiKey_StillPublic()
    {
        using var client = Anonymous.WithKey(WellFormedUnknownKey);

        var response = await client.SendAsync(HttpMethod.Get, "agents/templates");

        Assert.That(ApiAssert.Json(response, HttpStatusCode.OK)["agents"]!.AsArray(), Is.Not.Empty);
    }

    [Test]
    public async Task Health_WithoutApiKey_Returns200Ok()
    {
        var response = await Anonymous.SendAsync(HttpMethod.Get, "health");

        Assert.That(ApiAssert.Json(response, HttpStatusCode.OK).Str("status"), Is.EqualTo("ok"));
    }

    [TestCase("GET", "no-such-route")]
    [TestCase("POST", "runs/run_0000000000000000000a/pause")]
    [TestCase("GET", "accounts/me")]
    [TestCase("DELETE", "nosuch/..%2F..%2Fetc")]
    [TestCase("GET", "runs/run_0000000000000000000a/tasks/T1/complete/extra")]
    [TestCase("GET", "favicon.ico")]
    [TestCase("GET", "../../etc/passwd.txt")]
    public async Task UnknownRoute_AnyCaller_Returns404ProblemDetails(string method, string path)
    {
        using var client = await RegisterAsync();

        var withKey = await client.SendRawAsync(new HttpMethod(method), path, method == "POST" ? "{}" : null);
        var withoutKey = await Anonymous.SendRawAsync(new HttpMethod(method), path, method == "POST" ? "{}" : null);

        ApiAssert.Problem(withKey, HttpStatusCode.NotFound, "not_found");
        ApiAssert.Problem(withoutKey, HttpStatusCode.NotFound, "not_found");
    }

    [TestCase("PUT", "runs", "GET, POST")]
    [TestCase("PATCH", "providers", "GET, POST")]
    [TestCase("POST", "runs/run_0000000000000000000a", "DELETE, GET")]
    [TestCase("DELETE", "runs/run_0000000000000000000a/tasks", "GET")]
    [TestCase("GET", "runs/run_0000000000000000000a/tasks/T1/complete", "POST")]
    [TestCase("POST", "health", "GET")]
    [TestCase("DELETE", "auth/register", "POST")]
    [TestCase("HEAD", "openapi.json", "GET")]
    [TestCase("OPTIONS", "agents/templates", "GET")]
    public async Task KnownPath_MethodItDoesNotServe_Returns405WithAllow(string method, string path, string allow)
    {
        using var client = await RegisterAsync();

        var withKey = await client.SendRawAsync(new HttpMethod(method), path, method is "POST" or "PUT" or "PATCH" ? "{}" : null);
        var withoutKey = await Anonymous.SendRawAsync(new HttpMethod(method), path, null);

        foreach (var response in new[] { withKey, withoutKey })
        {
            Assert.That(response.Header("Allow")?.Split(", ").Order(), Is.EqualTo(allow.Split(", ")), response.Text);
            if (method != "HEAD")
            {
                ApiAssert.Problem(response, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
            }
            else
            {
                Assert.That(response.Status, Is.EqualTo(HttpStatusCode.MethodNotAllowed), "HEAD has no body to show the problem in");
            }
        }
    }
}
