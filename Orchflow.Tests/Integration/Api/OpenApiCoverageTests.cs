using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Functions.Http;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// The OpenAPI document against the route table it describes: every route a function serves is documented, with the
/// security, idempotency and rate limit the pipeline gives it, and the document describes no route that is not served
/// (apart from the webhook routes, described from the contract until this build serves them). Also shows that the
/// response check fails when a response and the document disagree.
/// </summary>
[TestFixture]
public sealed class OpenApiCoverageTests
{
    /// <summary>
    /// Operations the document describes before their functions exist. Each is allowed to be missing from
    /// the route table only while it is missing: once a webhook function lands, its route is held to the document like
    /// any other.
    /// </summary>
    static readonly string[] DescribedBeforeServed =
        ["createWebhook", "listWebhooks", "deleteWebhook", "rotateWebhookSecret", "listWebhookDeliveries"];

    static OpenApiContract Contract => OpenApiContract.Embedded;

    /// <summary>The API's routes and methods: what FunctionCatalog serves under the API base, less the catch-all.</summary>
    static IEnumerable<(HttpFunction Function, string Method, string Path)> CatalogOperations() =>
        FunctionCatalog.Http
            .Where(f => !f.IsFallback && f.Route.StartsWith(FunctionCatalog.ApiBase.TrimStart('/') + "/", StringComparison.Ordinal))
            .SelectMany(f => f.Methods.Select(m => (f, m, f.Route[(FunctionCatalog.ApiBase.Length - 1)..])));

    static HttpFunction? Serving(OpenApiOperation operation) =>
        CatalogOperations().Where(c => c.Method == operation.Method && c.Path == operation.Path).Select(c => c.Function).FirstOrDefault();

    [Test]
    public void Document_EveryCatalogRouteAndMethod_IsDocumentedWithAnOperationId()
    {
        var catalog = CatalogOperations().ToList();

        Assert.That(catalog, Is.Not.Empty);
        Assert.Multiple(() =>
        {
            foreach (var (function, method, path) in catalog)
            {
                var operation = Contract.Find(method, path);
                Assert.That(operation, Is.Not.Null, $"{method} {path} ({function.Name}) is served but not in openapi.json");
                Assert.That(operation?.OperationId, Is.Not.Null.And.Not.Empty, $"{method} {path} has no operationId");
            }
        });
    }

    [Test]
    public void Document_EveryOperation_IsServed_OrAWebhookRouteNotServedYet()
    {
        var unserved = Contract.Operations.Where(o => Serving(o) is null).Select(o => o.OperationId ?? o.ToString()).ToList();

        Assert.That(unserved, Is.SubsetOf(DescribedBeforeServed), "the document describes routes no function serves");
        if (unserved.Count > 0)
        {
            TestContext.Out.WriteLine($"Described in the OpenAPI document, not served by this build yet: {string.Join(", ", unserved)}");
        }
    }

    [Test]
    public void Document_EveryOperation_HasAUniqueIdTagsSummaryAndA4xxOrNoWayToFail()
    {
        var ids = Contract.Operations.Select(o => o.OperationId).ToList();

        Assert.That(ids, Is.Unique.And.All.Not.Null);
        Assert.Multiple(() =>
        {
            foreach (var operation in Contract.Operations)
            {
                var element = Contract.Element(operation);
                Assert.That(element.TryGetProperty("tags", out var tags) && tags.GetArrayLength() > 0, Is.True, $"{operation} has no tag");
                Assert.That(element.TryGetProperty("summary", out var summary) && summary.GetString()!.Length > 0, Is.True, $"{operation} has no summary");
                var statuses = Contract.Responses(operation).Select(r => r.Status).ToList();
                Assert.That(statuses, Has.Some.Match("^2"), $"{operation} documents no success");
                // The routes that take no key, body or parameter and are not limited have no 4xx to document (see .redocly.lint-ignore.yaml).
                var cannotFail = element.TryGetProperty("security", out var security) && security.GetArrayLength() == 0 &&
                                 !element.TryGetProperty("parameters", out _) && !element.TryGetProperty("requestBody", out _) &&
                                 !statuses.Contains("429");
                Assert.That(cannotFail || statuses.Any(s => s.StartsWith('4')), Is.True, $"{operation} documents no 4xx");
            }
        });
    }

    [Test]
    public void Document_SecurityIdempotencyAndRateLimits_AreThoseThePipelineApplies()
    {
        Assert.Multiple(() =>
        {
            foreach (var operation in Contract.Operations)
            {
                if (Serving(operation) is not { } function)
                {
                    continue;
                }

                var element = Contract.Element(operation);
                var statuses = Contract.Responses(operation).Select(r => r.Status).ToList();
                var needsNoKey = element.TryGetProperty("security", out var security) && security.GetArrayLength() == 0;
                var takesIdempotencyKey = element.TryGetProperty("parameters", out var parameters) &&
                                          parameters.EnumerateArray().Any(p => p.TryGetProperty("$ref", out var r) && r.GetString() == "#/components/parameters/IdempotencyKey");
                Assert.That(needsNoKey, Is.EqualTo(function.IsPublic), $"{operation}: whether it takes an API key");
                Assert.That(statuses.Contains("401"), Is.EqualTo(!function.IsPublic), $"{operation}: whether it documents 401");
                Assert.That(takesIdempotencyKey, Is.EqualTo(function.IsIdempotent), $"{operation}: whether it takes Idempotency-Key");
                Assert.That(statuses.Contains("429"), Is.EqualTo(!function.IsPublic || function.LimitedPerClientAddress), $"{operation}: whether it documents 429");
            }
        });
    }

    [Test]
    public void Document_IsWhatTheLintChecks_TheFileInTheRepository()
    {
        var file = File.ReadAllText(Path.Combine(RepoPaths.Root, "Orchflow.Functions", "OpenApi", "openapi.json"));

        Assert.That(JsonNode.DeepEquals(JsonNode.Parse(file), JsonNode.Parse(OpenApiContract.EmbeddedText())), Is.True);
    }

    // The check itself, on a response that agrees with the document and on ways one can disagree with it.

    const string Run = """
        {"run_id":"run_0f3k9tq2zm7c8d1v4x6b","status":"waiting_human","task":"Research pricing.","agents":[{"name":"research","instructions":null,"tools":[]}],
         "ask_me_about":["company details"],"human_gates":[],"require_approval":false,"require_plan_approval":false,"provider_id":null,
         "human_timeout_seconds":null,"tools":[],"approve_tools":[],"max_tool_calls":10,
         "subtasks":{"T1":{"task_id":"T1","name":"Provide company details","description":"","kind":"human","agent":null,"state":"waiting_human",
           "depends_on":[],"prompt":"What are your company details?","output":null,"error":null,"usage":{"input_tokens":0,"output_tokens":0},
           "started_at":"2026-12-02T10:15:30.1234567+00:00","completed_at":null,"inputs":[],"tool_calls":[],"pending_tool_call":null}},
         "waiting_on":["T1"],"final_output":null,"usage":{"input_tokens":3,"output_tokens":5},"error":null,"planned_by":"simulated",
         "events":[],"attempt":0,"created_at":"2026-12-02T10:15:29.0000000+00:00","updated_at":"2026-12-02T10:15:30.1234567+00:00"}
        """;

    static ApiResponse Response(HttpStatusCode status, string body, string? contentType = "application/json", Dictionary<string, string>? headers = null) =>
        new(status, body, null, contentType, null)
        {
            Headers = new Dictionary<string, string>(headers ?? new Dictionary<string, string>
            {
                ["ETag"] = "\"v3\"", ["RateLimit"] = "\"per-key\";r=59;t=1", ["RateLimit-Policy"] = "\"per-key\";q=300;w=60",
            }, StringComparer.OrdinalIgnoreCase),
        };

    [Test]
    public void Check_RunAsTheDocumentDescribesIt_HasNoProblem()
    {
        Assert.That(Contract.Check(Contract.Operation("getRun"), Response(HttpStatusCode.OK, Run)), Is.Empty);
    }

    static IEnumerable<TestCaseData> Disagreements()
    {
        static string Edit(Action<JsonObject> edit)
        {
            var run = JsonNode.Parse(Run)!.AsObject();
            edit(run);
            return run.ToJsonString();
        }

        yield return new TestCaseData(Response(HttpStatusCode.OK, Edit(r => r.Remove("attempt"))), "attempt")
            .SetName("Check_RunWithoutARequiredField_IsReported");
        yield return new TestCaseData(Response(HttpStatusCode.OK, Edit(r => r["paused"] = true)), "paused")
            .SetName("Check_RunWithAnUndocumentedField_IsReported");
        yield return new TestCaseData(Response(HttpStatusCode.OK, Edit(r => r["status"] = "sleeping")), "/status")
            .SetName("Check_RunWithAStatusOutsideTheEnum_IsReported");
        yield return new TestCaseData(Response(HttpStatusCode.OK, Edit(r => r["subtasks"]!["T1"]!["agent"] = 7)), "/subtasks/T1/agent")
            .SetName("Check_TaskFieldOfTheWrongType_IsReported");
        yield return new TestCaseData(Response(HttpStatusCode.OK, Edit(r => r["created_at"] = "yesterday")), "/created_at")
            .SetName("Check_TimestampNotADateTime_IsReported");
        yield return new TestCaseData(Response(HttpStatusCode.Created, Run), "status 201")
            .SetName("Check_UndocumentedStatus_IsReported");
        yield return new TestCaseData(Response(HttpStatusCode.OK, Run, "text/plain"), "text/plain")
            .SetName("Check_UndocumentedMediaType_IsReported");
        yield return new TestCaseData(Response(HttpStatusCode.OK, Run, headers: new Dictionary<string, string>()), "header ETag")
            .SetName("Check_RequiredHeaderMissing_IsReported");
        yield return new TestCaseData(Response(HttpStatusCode.NotFound, """{"type":"https://orchflow.dev/problems/conflict","title":"Conflict","status":409,"detail":"x","code":"conflict"}""",
                "application/problem+json"), "/code")
            .SetName("Check_ProblemWithAnotherStatusesCode_IsReported");
    }

    [TestCaseSource(nameof(Disagreements))]
    public void Check_ResponseThatDisagreesWithTheDocument_IsReported(ApiResponse response, string named)
    {
        var problems = Contract.Check(Contract.Operation("getRun"), response);

        Assert.That(problems, Has.Some.Contains(named), string.Join("\n", problems));
    }
}
