using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Orchflow.Functions.Http;
using Orchflow.Tests.Integration.Engine;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// Real responses of every documented operation, over HTTP on the standalone host, checked against the OpenAPI
/// document: each operation is driven to its successes and its common refusals, and every answer on the way must have a
/// documented status, media type, body and headers. An operation the document gains without a scenario here fails, and
/// so does one this build does not serve.
/// </summary>
[TestFixture]
public sealed partial class OpenApiContractTests : HostedTests
{
    const string Goal = RunScenarios.Goal;

    static readonly string Oversized = $$"""{"name":"{{new string('a', 300 * 1024)}}"}""";

    /// <summary>Responses no single client provokes at will: checked elsewhere (429) or never meant to happen (500, 503).</summary>
    static readonly string[] NotProvokedHere =
        ["#/components/responses/TooManyRequests", "#/components/responses/InternalError"];

    static OpenApiContract Contract => OpenApiContract.Embedded;

    /// <summary>The statuses each operation answered in the current test, all of them checked against the document.</summary>
    readonly Dictionary<string, SortedSet<int>> answered = [];

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__TrialRuns"] = "4",
        ["Orchflow__Accounts__MaxActiveRuns"] = "3",
        ["Orchflow__Engine__MaxReviewRounds"] = "2",
    };

    [SetUp]
    public void ForgetAnswers() => answered.Clear();

    static IEnumerable<TestCaseData> Operations() =>
        OpenApiContract.Embedded.Operations.Select(o => new TestCaseData(o.OperationId).SetArgDisplayNames(o.OperationId!));

    [TestCaseSource(nameof(Operations))]
    public async Task Operation_RealResponses_MatchTheDocument(string operationId)
    {
        var operation = Contract.Operation(operationId);
        if (!FunctionCatalog.Http.Any(f => !f.IsFallback && f.Route == operation.Route && f.Methods.Contains(operation.Method)))
        {
            Assert.Fail($"{operation} is documented but not in FunctionCatalog.Http: this build does not serve it. Serve it, or take it out of the document.");
        }

        if (!Scenarios.TryGetValue(operationId, out var scenario))
        {
            Assert.Fail($"No scenario drives {operation} ({operationId}): add one to {nameof(OpenApiContractTests)}.{nameof(Scenarios)}.");
        }

        await scenario!();

        var expected = Contract.Responses(operation)
            .Where(r => r.Component is null || !NotProvokedHere.Contains(r.Component))
            .Where(r => !(operationId == "getHealth" && r.Status == "503"))
            .Select(r => int.Parse(r.Status))
            .ToList();
        Assert.That(answered.GetValueOrDefault(operationId) ?? [], Is.SupersetOf(expected),
            $"{operation}: the scenario must drive every documented response it can provoke");
    }

    IReadOnlyDictionary<string, Func<Task>> Scenarios => new Dictionary<string, Func<Task>>
    {
        ["register"] = RegisterScenario,
        ["getAccount"] = GetAccountScenario,
        ["closeAccount"] = CloseAccountScenario,
        ["createKey"] = CreateKeyScenario,
        ["listKeys"] = ListKeysScenario,
        ["revokeKey"] = RevokeKeyScenario,
        ["startRun"] = StartRunScenario,
        ["listRuns"] = ListRunsScenario,
        ["getRun"] = GetRunScenario,
        ["cancelRun"] = CancelRunScenario,
        ["retryRun"] = RetryRunScenario,
        ["getRunTasks"] = GetRunTasksScenario,
        ["completeTask"] = CompleteTaskScenario,
        ["reviewPlan"] = ReviewPlanScenario,
        ["raiseRunBudget"] = RaiseRunBudgetScenario,
        ["getRunEvents"] = GetRunEventsScenario,
        ["createProvider"] = CreateProviderScenario,
        ["listProviders"] = ListProvidersScenario,
        ["deleteProvider"] = DeleteProviderScenario,
        ["listAgentTemplates"] = () => Call("listAgentTemplates", Anonymous, "agents/templates"),
        ["getHealth"] = () => Call("getHealth", Anonymous, "health"),
        ["getOpenApi"] = GetOpenApiScenario,
        ["createWebhook"] = CreateWebhookScenario,
        ["listWebhooks"] = ListWebhooksScenario,
        ["deleteWebhook"] = DeleteWebhookScenario,
        ["rotateWebhookSecret"] = RotateWebhookSecretScenario,
        ["listWebhookDeliveries"] = ListWebhookDeliveriesScenario,
        ["createToolServer"] = CreateToolServerScenario,
        ["listToolServers"] = ListToolServersScenario,
        ["getToolServer"] = GetToolServerScenario,
        ["refreshToolServer"] = RefreshToolServerScenario,
        ["deleteToolServer"] = DeleteToolServerScenario,
    };

    // Helpers.

    /// <summary>
    /// Sends the request an operation takes and checks the answer against the document; <paramref name="wait"/> first
    /// waits until the run waits on the task named in the path.
    /// </summary>
    async Task<ApiResponse> Call(string operationId, OrchflowClient client, string path, object? body = null, string? raw = null,
        (string Name, string Value)? header = null, string? idempotencyKey = null, string? wait = null)
    {
        var operation = Contract.Operation(operationId);
        AssertPathIsOf(operation, path);
        if (wait is not null)
        {
            var taskId = path.Split('/')[^2];
            await WaitAsync(client, wait, r => RunGraph.WaitingOn(r).Contains(taskId));
        }

        var response = await client.SendRawAsync(new HttpMethod(operation.Method), path, raw ?? (body is null ? null : JsonSerializer.Serialize(body)),
            header: idempotencyKey is null ? header : ("Idempotency-Key", idempotencyKey));
        Verify(operation, response);
        return response;
    }

    /// <summary>The events route with <c>Accept: text/event-stream</c>, read to its end (for a run that has ended, the server closes it).</summary>
    async Task<ApiResponse> StreamEventsAsync(OrchflowClient client, string runId, string? lastEventId = null)
    {
        var operation = Contract.Operation("getRunEvents");
        using var http = new HttpClient { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"runs/{runId}/events");
        request.Headers.Add("X-API-Key", client.ApiKey);
        request.Headers.Add("Accept", "text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var answer = await http.SendAsync(request);
        var text = await answer.Content.ReadAsStringAsync();
        var media = answer.Content.Headers.ContentType?.MediaType;
        var response = new ApiResponse(answer.StatusCode, text, media?.Contains("json") == true ? JsonNode.Parse(text) : null, media, null)
        {
            Headers = answer.Headers.Concat(answer.Content.Headers).ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase),
        };
        Verify(operation, response);
        return response;
    }

    void Verify(OpenApiOperation operation, ApiResponse response)
    {
        var problems = Contract.Check(operation, response);
        if (problems.Count > 0)
        {
            Assert.Fail($"{operation} answered {(int)response.Status} {response.ContentType} in a way the document does not describe:\n  - " +
                        string.Join("\n  - ", problems.Take(30)) + $"\nBody: {(response.Text.Length > 2000 ? response.Text[..2000] + "…" : response.Text)}");
        }

        if (!answered.TryGetValue(operation.OperationId!, out var statuses))
        {
            answered[operation.OperationId!] = statuses = [];
        }

        statuses.Add((int)response.Status);
    }

    static void AssertPathIsOf(OpenApiOperation operation, string path)
    {
        var matcher = new TemplateMatcher(TemplateParser.Parse(operation.Path.TrimStart('/')), new RouteValueDictionary());
        Assert.That(matcher.TryMatch("/" + path.Split('?')[0], new RouteValueDictionary()), Is.True, $"{path} is not a path of {operation}");
    }

    static async Task<ApiResponse> Expect(HttpStatusCode status, Task<ApiResponse> call)
    {
        var response = await call;
        Assert.That(response.Status, Is.EqualTo(status), response.Text);
        return response;
    }

    static async Task<ApiResponse> ExpectProblem(string code, Task<ApiResponse> call)
    {
        var response = await call;
        Assert.That(response.Code, Is.EqualTo(code), response.Text);
        return response;
    }

    /// <summary>Registers an account through the operation, checked like any other answer.</summary>
    async Task<OrchflowClient> NewAccountAsync()
    {
        var registered = await Expect(HttpStatusCode.Created, Call("register", Anonymous, "auth/register", new { name = "Contract user", email = NewEmail() }));
        return Anonymous.WithKey(registered.Json!.Str("api_key"));
    }

    async Task<string> StartAsync(OrchflowClient client, object body) =>
        (await Expect(HttpStatusCode.Accepted, Call("startRun", client, "runs", body))).Json!.Str("run_id");

    /// <summary>Polls the run, checking every state it is seen in against the document, until the condition holds.</summary>
    async Task<JsonNode> WaitAsync(OrchflowClient client, string runId, Func<JsonNode, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var run = (await Expect(HttpStatusCode.OK, Call("getRun", client, $"runs/{runId}"))).Json!;
            if (condition(run))
            {
                return run;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Run {runId} did not reach the expected state in time:\n{RunGraph.Describe(run)}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Answers an approval run's drafts until it completes: the first sent back, the next approved with an edit, the rest kept.</summary>
    Task DriveApprovalsAsync(OrchflowClient client, string runId) =>
        new ApprovalDriver(client, runId, new { approved = false, feedback = "Name the sources." }, new { output = "An edited draft." })
        {
            Answer = (taskId, verdict) => Call("completeTask", client, $"runs/{runId}/tasks/{taskId}/complete", verdict),
            Wait = condition => WaitAsync(client, runId, condition),
        }.DriveToCompletionAsync();

    static string NewEmail() => $"{Guid.NewGuid():N}@example.com";

    static string NewKey() => "contract-" + Guid.NewGuid().ToString("N");
}
