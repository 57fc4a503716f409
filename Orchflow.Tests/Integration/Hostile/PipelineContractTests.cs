using System.Text;
using System.Text.Json.Nodes;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>
/// What the shared request pipeline promises for every route at once (issue 10; docs/api.md, "Errors" and "Browser clients"): 405 with
/// <c>Allow</c> for a method a path does not serve, problem details for any unknown path under <c>/api</c>,
/// <c>Cache-Control: no-store</c> on answers that carry a secret, and 422 naming the field for text the API cannot
/// store faithfully (NUL, lone surrogates), a key given twice, a body that is not sent as JSON, or a query number
/// with a NUL after it.
/// </summary>
[TestFixture]
// Ahead of the fixtures on the default host, so that they run one after another (PublicDocsFlowTests next) and share it.
[Order(1)]
public sealed class PipelineContractTests : HostedTests
{
    static readonly string[] StandardMethods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    protected override IReadOnlyDictionary<string, string> HostSettings =>
        new Dictionary<string, string> { ["Orchflow__TrialRuns"] = "100" };

    [Test]
    public async Task EveryKnownPath_MethodItDoesNotServe_Returns405ProblemWithAllowListingItsMethods()
    {
        using var client = await RegisterAsync();
        using var http = new RawHttpClient(Host.BaseAddress);
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        var failures = new List<string>();
        var probed = 0;
        foreach (var route in CatalogRoute.All)
        {
            foreach (var parameter in route.Parameters)
            {
                ids[parameter] = parameter == "taskId" ? "T1" : parameter[..3].ToLowerInvariant() + "_0000000000000000000a";
            }

            var path = route.PathWith(ids);
            foreach (var method in StandardMethods.Where(m => !route.Serves(m)))
            {
                probed++;
                var body = method is "POST" or "PUT" or "PATCH" ? "{}"u8.ToArray() : null;
                var response = await http.SendAsync(new RawRequest(method, path, [new("X-API-Key", client.ApiKey!)], body, body is null ? null : "application/json"));
                var allow = (response.Header("Allow") ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                var wrong = new List<string>();
                if (response.Status != 405 || response.Code != "method_not_allowed")
                {
                    wrong.Add($"{response.Status} {response.Code ?? "(no code)"}");
                }

                wrong.AddRange(ErrorRules.ProblemViolations(response));
                if (!route.Methods.All(m => allow.Contains(m, StringComparer.OrdinalIgnoreCase)) || allow.Contains(method, StringComparer.OrdinalIgnoreCase))
                {
                    wrong.Add($"Allow is '{response.Header("Allow")}', not the route's {string.Join(", ", route.Methods)}");
                }

                if (wrong.Count > 0)
                {
                    failures.Add($"{method} {path}: {string.Join("; ", wrong)} — {response.Text}");
                }
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(probed, Is.GreaterThanOrEqualTo(CatalogRoute.All.Count), "every path was sent a method it does not serve");
            Assert.That(failures, Is.Empty, string.Join("\n", failures));
        });
    }

    [TestCase("DELETE", "/api/v1/nosuch/..%2F..%2Fetc")]
    [TestCase("GET", "/api/v1/nosuch/file.txt")]
    [TestCase("GET", "/api/v1/runs/run_0000000000000000000a/tasks%2F..%2F")]
    [TestCase("POST", "/api/v1/openapi.yaml")]
    [TestCase("GET", "/api/.env")]
    [TestCase("PUT", "/api/v1/runs/run_0000000000000000000a/tasks/T1/complete.json")]
    [TestCase("GET", "/api/v1")]
    [TestCase("GET", "/api/v2/runs")]
    [TestCase("PATCH", "/api/v1/accounts/me")]
    public async Task UnknownPathUnderApi_WithAndWithoutKey_Returns404ProblemDetails(string method, string path)
    {
        using var client = await RegisterAsync();
        using var http = new RawHttpClient(Host.BaseAddress);
        var body = method is "POST" or "PUT" or "PATCH" ? "{}"u8.ToArray() : null;

        var withKey = await http.SendAsync(new RawRequest(method, path, [new("X-API-Key", client.ApiKey!)], body, body is null ? null : "application/json"));
        var withoutKey = await http.SendAsync(new RawRequest(method, path, [], body, body is null ? null : "application/json"));

        Assert.Multiple(() =>
        {
            foreach (var (who, response) in new[] { ("with a key", withKey), ("without a key", withoutKey) })
            {
                Assert.That((response.Status, response.Code), Is.EqualTo((404, "not_found")), $"{who}: {response.Status} {response.Text}");
                Assert.That(ErrorRules.ProblemViolations(response), Is.Empty, $"{who}: {response.Text}");
            }
        });
    }

    /// <summary>A number followed by an encoded NUL is not a whole number, whatever .NET's parser forgives.</summary>
    [TestCase("limit=5%00")]
    [TestCase("offset=0%00")]
    [TestCase("limit=5%00%00")]
    public async Task ListRuns_NumberFollowedByNul_Returns422NamingTheParameter(string query)
    {
        using var client = await RegisterAsync();

        var response = await client.SendAsync(HttpMethod.Get, "runs?" + query);

        ApiAssert.Invalid(response, query[..query.IndexOf('=', StringComparison.Ordinal)]);
    }

    [Test]
    public async Task Register_Created_SendsCacheControlNoStore()
    {
        using var http = new RawHttpClient(Host.BaseAddress);
        var body = Encoding.UTF8.GetBytes(new JsonObject { ["name"] = "Cache", ["email"] = $"{Guid.NewGuid():N}@example.com" }.ToJsonString());

        var response = await http.SendAsync(new RawRequest("POST", "/api/v1/auth/register", [], body, "application/json"));

        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(201), response.Text);
            Assert.That(response.Json?["api_key"]?.GetValue<string>(), Does.StartWith("orch_"), "the answer carries the secret");
            Assert.That(response.Header("Cache-Control"), Does.Contain("no-store"));
        });
    }

    [Test]
    public async Task CreateProvider_Created_SendsCacheControlNoStore()
    {
        using var client = await RegisterAsync();
        using var http = new RawHttpClient(Host.BaseAddress);
        var body = Encoding.UTF8.GetBytes(new JsonObject { ["provider"] = "openai", ["api_key"] = "sk-cache-test-1234", ["model"] = "gpt-4o-mini" }.ToJsonString());

        var response = await http.SendAsync(new RawRequest("POST", "/api/v1/providers", [new("X-API-Key", client.ApiKey!)], body, "application/json"));

        Assert.Multiple(() =>
        {
            Assert.That(response.Status, Is.EqualTo(201), response.Text);
            Assert.That(response.Header("Cache-Control"), Does.Contain("no-store"));
        });
    }

    /// <summary>Media types that merely mention json are not JSON: each body route refuses them before acting.</summary>
    [TestCase("application/jsonp")]
    [TestCase("text/html; x=json")]
    [TestCase("text/plain; format=json")]
    public async Task EveryBodyRoute_ContentTypeThatOnlyMentionsJson_Returns422NamingBody(string contentType)
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        using var http = new RawHttpClient(Host.BaseAddress);
        var self = new AccountIds("acc_self", client.ApiKey!, "self@example.com", runId, "T1", [], runId, [], runId, [], "prv_self", "whk_self");
        var failures = new List<string>();
        foreach (var shape in RouteShapes.All.Where(s => s.ReadsBody))
        {
            var route = CatalogRoute.All.Single(r => r.Template == shape.Template);
            var path = route.PathWith(route.Parameters.ToDictionary(p => p, p => p == "taskId" ? "T1" : runId));
            var body = shape.ValidBody!(new ShapeContext(self, new Random(3), () => $"{Guid.NewGuid():N}@example.com"));
            body.Remove("provider_id");

            var response = await http.SendAsync(new RawRequest(shape.Method, path, [new("X-API-Key", client.ApiKey!)],
                Encoding.UTF8.GetBytes(body.ToJsonString()), contentType));

            if (response.Status != 422 || (response.Json?["errors"] as JsonObject)?.ContainsKey("body") != true)
            {
                failures.Add($"{shape.Method} {path} with Content-Type: {contentType} → {response.Status} {response.Text[..Math.Min(response.Text.Length, 200)]}");
            }
        }

        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }

    /// <summary>
    /// Every text field of every body the API reads, given a NUL, a lone surrogate, or twice: each answer is a 422
    /// whose <c>errors</c> name the field (or <c>body</c>, for the duplicate), and nothing is created.
    /// </summary>
    [Test]
    public async Task EveryTextField_NulLoneSurrogateOrDuplicateKey_Returns422NamingTheField()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        using var http = new RawHttpClient(Host.BaseAddress);
        var self = new AccountIds("acc_self", client.ApiKey!, "self@example.com", runId, "T1", [], runId, [], runId, [], "prv_self", "whk_self");
        var failures = new List<string>();
        var sent = 0;
        foreach (var shape in RouteShapes.All.Where(s => s.ReadsBody))
        {
            var route = CatalogRoute.All.Single(r => r.Template == shape.Template);
            var path = route.PathWith(route.Parameters.ToDictionary(p => p, p => p == "taskId" ? "T1" : runId));
            var key = route.IsPublic(shape.Method) ? [] : new List<KeyValuePair<string, string>> { new("X-API-Key", client.ApiKey!) };
            foreach (var field in shape.Fields.Where(f => f.Kind is FieldKind.Text or FieldKind.TextList or FieldKind.AgentList))
            {
                foreach (var (what, json) in HostileBodies(shape, field, self))
                {
                    sent++;
                    var response = await http.SendAsync(new RawRequest(shape.Method, path, key, Encoding.UTF8.GetBytes(json), "application/json"));
                    var named = (response.Json?["errors"] as JsonObject)?.Select(e => e.Key).ToList() ?? [];
                    var ok = response.Status == 422 && response.Code == "validation_failed" &&
                             named.Any(n => n.StartsWith(field.Name, StringComparison.Ordinal) || (what.StartsWith("duplicate", StringComparison.Ordinal) && n == "body"));
                    if (!ok)
                    {
                        failures.Add($"{shape.Method} {shape.Template}, {what} in '{field.Name}': {json[..Math.Min(json.Length, 160)]} → {response.Status} {response.Text[..Math.Min(response.Text.Length, 300)]}");
                    }
                }
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(sent, Is.GreaterThan(40));
            Assert.That(failures, Is.Empty, $"{failures.Count} of {sent} hostile texts were not refused with a 422 naming the field:\n" + string.Join("\n", failures));
        });
    }

    /// <summary>The shape's valid body with one text field made hostile, as JSON text (escapes written by hand).</summary>
    static IEnumerable<(string What, string Json)> HostileBodies(RouteShape shape, BodyField field, AccountIds caller)
    {
        const string marker = "@@HOSTILE@@";
        var random = new Random(field.Name.Length);
        JsonObject Valid()
        {
            // Without a provider the caller does not have, so nothing but the hostile text can refuse the body.
            var body = shape.ValidBody!(new ShapeContext(caller, random, () => $"{Guid.NewGuid():N}@example.com"));
            body.Remove("provider_id");
            return body;
        }

        JsonNode Holding(string value) => field.Kind switch
        {
            FieldKind.TextList => new JsonArray("fine", value),
            FieldKind.AgentList => new JsonArray(new JsonObject { ["name"] = "research", ["instructions"] = value }),
            _ => value,
        };

        foreach (var (what, escaped) in new[] { ("a NUL", "a\\u0000b"), ("a trailing NUL", "value\\u0000"), ("a lone high surrogate", "a\\uD800b"), ("a lone low surrogate", "\\uDC00") })
        {
            var body = Valid();
            body[field.Name] = Holding(marker);
            yield return (what, body.ToJsonString().Replace(marker, escaped, StringComparison.Ordinal));
        }

        var twice = Valid();
        var value = twice[field.Name]?.DeepClone() ?? Holding(field.Name == "endpoint" ? "https://llm.example.com/v1" : field.Name == "provider_id" ? "prv_nosuch0000000000" : "Fine text");
        twice.Remove(field.Name);
        var rest = twice.ToJsonString();
        var pair = $"\"{field.Name}\":{value.ToJsonString()}";
        yield return ("duplicate key", "{" + pair + "," + pair + (rest == "{}" ? "}" : "," + rest[1..]));
    }
}
