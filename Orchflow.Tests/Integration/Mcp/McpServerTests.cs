using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Extensions.Tasks;
using ModelContextProtocol.Protocol;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Mcp;

/// <summary>
/// Orchflow as an MCP server, driven by the official C# SDK's client over Streamable HTTP against the standalone host:
/// the tools, a run followed as an MCP task through its input request to its result, and what a client may not do.
/// </summary>
[TestFixture]
public sealed class McpServerTests : HostedTests
{
    static readonly string[] Tools = ["start_run", "get_run", "list_runs", "answer_task", "cancel_run"];

    [Test]
    public async Task ListTools_WithKey_EveryToolWithSchemasFromTheContract()
    {
        using var account = await RegisterAsync();
        await using var client = await McpClients.ConnectAsync(Host, account.ApiKey!);

        var tools = await client.ListToolsAsync();

        Assert.That(tools.Select(t => t.Name), Is.EquivalentTo(Tools));
        var start = tools.Single(t => t.Name == "start_run").ProtocolTool;
        var input = JsonNode.Parse(start.InputSchema.GetRawText())!;
        Assert.Multiple(() =>
        {
            Assert.That(input["$schema"]!.GetValue<string>(), Is.EqualTo("https://json-schema.org/draft/2020-12/schema"));
            Assert.That(input["required"]!.AsArray().Select(n => n!.GetValue<string>()), Is.EqualTo(new[] { "task" }));
            Assert.That(input["properties"]!["task"]!["maxLength"]!.GetValue<int>(), Is.EqualTo(8000));
            Assert.That(input["$defs"]!["AgentChoice"], Is.Not.Null, "referenced components travel in $defs");
            Assert.That(input.ToJsonString(), Does.Not.Contain("#/components/"));
            Assert.That(start.OutputSchema!.Value.GetProperty("properties").TryGetProperty("run_id", out _));
            Assert.That(tools.All(t => t.Description.Length > 0));
        });
    }

    [Test]
    public async Task StartRun_AsTask_InputRequestAnsweredThenResult()
    {
        using var account = await RegisterAsync();
        await using var client = await McpClients.ConnectAsync(Host, account.ApiKey!);

        var call = await client.CallToolAsTaskAsync(new CallToolRequestParams
        {
            Name = "start_run",
            Arguments = Arguments(new JsonObject
            {
                ["task"] = RunScenarios.Goal,
                ["ask_me_about"] = new JsonArray("company details", new JsonObject { ["name"] = "budget_usd", ["title"] = "Monthly budget", ["type"] = "integer", ["minimum"] = 0 }),
            }),
        });
        Assert.That(call.IsTask, "a client with the tasks extension gets the run as a task");
        var runId = call.TaskCreated!.TaskId;
        Assert.That(runId, Does.StartWith("run_"));

        var waiting = (InputRequiredTaskResult)await client.PollAsync(runId, s => s.Status == McpTaskStatus.InputRequired);
        var (key, request) = waiting.InputRequests!.Single();
        Assert.That(key, Is.EqualTo("T1"));
        var elicitation = JsonNode.Parse(JsonSerializer.Serialize(request, McpJsonUtilities.DefaultOptions))!;
        var schema = elicitation["params"]!["requestedSchema"]!;
        var run = await Client(account).GetRunAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(elicitation["method"]!.GetValue<string>(), Is.EqualTo("elicitation/create"));
            Assert.That(schema["properties"]!.AsObject().Select(p => p.Key), Is.EquivalentTo(new[] { "company_details", "budget_usd" }));
            Assert.That(schema["required"]!.AsArray().Select(n => n!.GetValue<string>()),
                Is.EquivalentTo(run["subtasks"]!["T1"]!["input_schema"]!["required"]!.AsArray().Select(n => n!.GetValue<string>())));
        });

        // A form's answer goes through the form's check, as on POST /complete: nothing is stored when it fails.
        var refused = Assert.ThrowsAsync<McpProtocolException>(async () => await client.UpdateTaskAsync(Update(runId, key,
            new JsonObject { ["company_details"] = "A workflow API.", ["budget_usd"] = -5 })));
        Assert.That(refused!.Message, Does.Contain("budget_usd"));
        Assert.That((await Client(account).GetRunAsync(runId))["subtasks"]!["T1"]!["state"]!.GetValue<string>(), Is.EqualTo("waiting_human"));

        await client.UpdateTaskAsync(Update(runId, key, new JsonObject { ["company_details"] = "A workflow API for AI apps.", ["budget_usd"] = 5000 }));

        var done = (CompletedTaskResult)await client.PollAsync(runId, s => s.Status is McpTaskStatus.Completed or McpTaskStatus.Failed or McpTaskStatus.Cancelled);
        var result = done.Result.Deserialize<CallToolResult>(McpJsonUtilities.DefaultOptions)!;
        var ended = await Client(account).GetRunAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(result.IsError, Is.Not.True);
            Assert.That(((TextContentBlock)result.Content[0]).Text, Is.EqualTo(ended["final_output"]!.GetValue<string>()));
            Assert.That(result.StructuredContent!.Value.GetProperty("status").GetString(), Is.EqualTo("completed"));
            Assert.That(ended["subtasks"]!["T1"]!["input"]!["budget_usd"]!.GetValue<int>(), Is.EqualTo(5000));
        });
    }

    [Test]
    public async Task StartRun_AsTaskWithApproval_DraftsSentBackAndApprovedThroughInputResponses()
    {
        using var account = await RegisterAsync();
        await using var client = await McpClients.ConnectAsync(Host, account.ApiKey!);
        var call = await client.CallToolAsTaskAsync(new CallToolRequestParams
        {
            Name = "start_run",
            Arguments = Arguments(new JsonObject { ["task"] = "Write a launch plan.", ["require_approval"] = true }),
        });
        var runId = call.TaskCreated!.TaskId;

        var first = (InputRequiredTaskResult)await client.PollAsync(runId, s => s.Status == McpTaskStatus.InputRequired);
        var (key, request) = first.InputRequests!.First();
        var fields = JsonNode.Parse(JsonSerializer.Serialize(request, McpJsonUtilities.DefaultOptions))!["params"]!["requestedSchema"]!["properties"]!;
        Assert.That(key, Does.EndWith(".review0"));
        Assert.That(fields.AsObject().Select(p => p.Key), Is.EquivalentTo(new[] { "approved", "output", "feedback" }));

        // A refusal needs feedback, as on POST /complete; with it the agent redoes the draft, asked again under a new key.
        Assert.ThrowsAsync<McpProtocolException>(async () => await client.UpdateTaskAsync(Update(runId, key, new JsonObject { ["approved"] = false })));
        await client.UpdateTaskAsync(Update(runId, key, new JsonObject { ["approved"] = false, ["feedback"] = "Shorter, please." }));
        var taskId = Orchflow.Functions.Mcp.InputRequests.TaskIdOf(key)!;
        var again = (InputRequiredTaskResult)await client.PollAsync(runId,
            s => s is InputRequiredTaskResult { InputRequests: { } r } && r.ContainsKey(taskId + ".review1"));
        Assert.That(again.InputRequests!.Keys, Does.Not.Contain(key));

        // Approve every draft as it comes, until the run ends.
        GetTaskResult state = again;
        while (state is InputRequiredTaskResult waiting)
        {
            foreach (var pending in waiting.InputRequests!.Keys)
            {
                await client.UpdateTaskAsync(Update(runId, pending, new JsonObject { ["approved"] = true }));
            }

            state = await client.PollAsync(runId, s => s.Status != McpTaskStatus.Working && !(s is InputRequiredTaskResult r && r.InputRequests!.Keys.All(waiting.InputRequests.ContainsKey)));
        }

        var run = await Client(account).GetRunAsync(runId);
        var events = await Client(account).EventsAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(state.Status, Is.EqualTo(McpTaskStatus.Completed));
            Assert.That(run["status"]!.GetValue<string>(), Is.EqualTo("completed"));
            Assert.That(events.Count(e => e["type"]!.GetValue<string>() == "task.revision_requested" && e["task_id"]?.GetValue<string>() == taskId), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task StartRun_AsTaskWithToolApproval_TheCallLetThroughByAnInputResponse()
    {
        await using var pages = await LoopbackPages.StartAsync();
        pages.Serve("pricing", "text/html; charset=utf-8", "<html><body><p>The Team plan costs 49 dollars a month.</p></body></html>");
        using var account = await RegisterAsync();
        await using var client = await McpClients.ConnectAsync(Host, account.ApiKey!);
        var call = await client.CallToolAsTaskAsync(new CallToolRequestParams
        {
            Name = "start_run",
            Arguments = Arguments(new JsonObject
            {
                ["task"] = $"Read the pricing page at {pages.Url("pricing")} and report what the Team plan costs.",
                ["plan"] = JsonNode.Parse("""{"tasks": [{"task_id": "T1", "name": "Report the Team plan's price", "kind": "agent", "agent": "research", "depends_on": []}]}"""),
                ["tools"] = new JsonArray("fetch_url"),
                ["approve_tools"] = new JsonArray("fetch_url"),
            }),
        });
        var runId = call.TaskCreated!.TaskId;

        var waiting = (InputRequiredTaskResult)await client.PollAsync(runId, s => s.Status == McpTaskStatus.InputRequired);
        var (key, request) = waiting.InputRequests!.Single();
        var elicitation = JsonNode.Parse(JsonSerializer.Serialize(request, McpJsonUtilities.DefaultOptions))!["params"]!;
        Assert.Multiple(() =>
        {
            Assert.That(key, Does.StartWith("T1.tc_"));
            Assert.That(elicitation["message"]!.GetValue<string>(), Does.Contain("fetch_url").And.Contain(pages.Url("pricing")));
            Assert.That(elicitation["requestedSchema"]!["properties"]!.AsObject().Select(p => p.Key), Is.EquivalentTo(new[] { "approved", "arguments", "feedback" }));
            Assert.That(pages.Requests, Is.Empty, "nothing is fetched before a person lets the call through");
        });

        await client.UpdateTaskAsync(Update(runId, key, new JsonObject { ["approved"] = true }));

        var done = (CompletedTaskResult)await client.PollAsync(runId, s => s.Status is McpTaskStatus.Completed or McpTaskStatus.Cancelled);
        var result = done.Result.Deserialize<CallToolResult>(McpJsonUtilities.DefaultOptions)!;
        Assert.Multiple(() =>
        {
            Assert.That(result.IsError, Is.Not.True);
            Assert.That(pages.Requests.Select(r => r.Path), Is.EqualTo(new[] { "/pricing" }));
            Assert.That(result.StructuredContent!.Value.GetProperty("subtasks").GetProperty("T1").GetProperty("tool_calls")[0].GetProperty("state").GetString(),
                Is.EqualTo("completed"));
        });
    }

    [Test]
    public async Task Tools_WithoutTasks_StartReadAnswerAndCancel()
    {
        using var account = await RegisterAsync();
        await using var client = await McpClients.ConnectAsync(Host, new Dictionary<string, string> { ["Authorization"] = "Bearer " + account.ApiKey });

        var started = await client.CallAsync("start_run", new JsonObject { ["task"] = RunScenarios.Goal, ["ask_me_about"] = new JsonArray("company details") });
        Assert.That(started.IsError, Is.Not.True, started.Json().ToJsonString());
        var runId = started.Json()["run_id"]!.GetValue<string>();
        Assert.That(started.Json()["status"]!.GetValue<string>(), Is.EqualTo("queued"));

        await Client(account).WaitForStatusAsync(runId, "waiting_human");
        var read = await client.CallAsync("get_run", new JsonObject { ["run_id"] = runId });
        Assert.That(read.Json()["waiting_on"]!.AsArray().Select(n => n!.GetValue<string>()), Does.Contain("T1"));

        var listed = await client.CallAsync("list_runs", new JsonObject { ["limit"] = 5 });
        Assert.That(listed.Json()["runs"]!.AsArray().Select(r => r!["run_id"]!.GetValue<string>()), Does.Contain(runId));

        var answered = await client.CallAsync("answer_task", new JsonObject
        {
            ["run_id"] = runId, ["task_id"] = "T1", ["answer"] = new JsonObject { ["input"] = new JsonObject { ["company_details"] = "A workflow API." } },
        });
        Assert.That(answered.Json()["state"]!.GetValue<string>(), Is.EqualTo("completed"), answered.Json().ToJsonString());

        var again = await client.CallAsync("answer_task", new JsonObject
        {
            ["run_id"] = runId, ["task_id"] = "T1", ["answer"] = new JsonObject { ["output"] = "Twice." },
        });
        Assert.That(again.IsError, Is.True);
        Assert.That(again.Json()["code"]!.GetValue<string>(), Is.EqualTo("conflict"));

        var cancelled = await client.CallAsync("cancel_run", new JsonObject { ["run_id"] = runId });
        Assert.That(cancelled.IsError, Is.Not.True, cancelled.Json().ToJsonString());
        Assert.That((await Client(account).GetRunAsync(runId))["status"]!.GetValue<string>(), Is.AnyOf("cancelled", "completed"));
    }

    [Test]
    public async Task Tools_BadArguments_ProblemsNamingTheFields()
    {
        using var account = await RegisterAsync();
        await using var client = await McpClients.ConnectAsync(Host, account.ApiKey!);

        var unknown = await client.CallAsync("start_run", new JsonObject { ["task"] = "Plan a launch.", ["ask_me_abuot"] = new JsonArray("x") });
        var empty = await client.CallAsync("start_run", new JsonObject { ["task"] = "" });
        var limit = await client.CallAsync("list_runs", new JsonObject { ["limit"] = 1000 });
        var notRun = await client.CallAsync("get_run", new JsonObject { ["run_id"] = "nope" });

        Assert.Multiple(() =>
        {
            Assert.That(unknown.IsError, Is.True);
            Assert.That(unknown.Json()["errors"]!["ask_me_abuot"], Is.Not.Null, unknown.Json().ToJsonString());
            Assert.That(empty.Json()["errors"]!["task"], Is.Not.Null, empty.Json().ToJsonString());
            Assert.That(limit.Json()["errors"]!["limit"], Is.Not.Null, limit.Json().ToJsonString());
            Assert.That(notRun.Json()["code"]!.GetValue<string>(), Is.EqualTo("not_found"));
        });
    }

    [Test]
    public async Task AnotherAccountsRun_NotFoundAsToolAndAsTask()
    {
        using var owner = await RegisterAsync();
        using var other = await RegisterAsync();
        var runId = (await Client(owner).StartRunAsync(new { task = RunScenarios.Goal, ask_me_about = new[] { "company details" } }))["run_id"]!.GetValue<string>();
        await Client(owner).WaitForStatusAsync(runId, "waiting_human");
        await using var client = await McpClients.ConnectAsync(Host, other.ApiKey!);

        var read = await client.CallAsync("get_run", new JsonObject { ["run_id"] = runId });
        var answer = await client.CallAsync("answer_task", new JsonObject
        {
            ["run_id"] = runId, ["task_id"] = "T1", ["answer"] = new JsonObject { ["output"] = "Not mine." },
        });
        var cancel = await client.CallAsync("cancel_run", new JsonObject { ["run_id"] = runId });

        Assert.Multiple(() =>
        {
            Assert.That(read.Json()["code"]!.GetValue<string>(), Is.EqualTo("not_found"));
            Assert.That(answer.Json()["code"]!.GetValue<string>(), Is.EqualTo("not_found"));
            Assert.That(cancel.Json()["code"]!.GetValue<string>(), Is.EqualTo("not_found"));
            Assert.ThrowsAsync<McpProtocolException>(async () => await client.GetTaskAsync(runId));
            Assert.ThrowsAsync<McpProtocolException>(async () => await client.UpdateTaskAsync(Update(runId, "T1", new JsonObject { ["company_details"] = "x" })));
        });
        Assert.That((await Client(owner).GetRunAsync(runId))["status"]!.GetValue<string>(), Is.EqualTo("waiting_human"));
    }

    [TestCase(null, null)]
    [TestCase("X-API-Key", "orch_not-a-key")]
    [TestCase("Authorization", "Bearer orch_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [TestCase("Authorization", "Basic dXNlcjpwYXNz")]
    public async Task Mcp_WithoutAValidKey_401ProblemDetails(string? header, string? value)
    {
        using var http = new HttpClient();
        using var request = Initialize();
        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        using var response = await http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
    }

    [Test]
    public async Task Mcp_FromAPageOfAnotherSite_403BeforeTheKey()
    {
        using var account = await RegisterAsync();
        using var http = new HttpClient();
        using var request = Initialize();
        request.Headers.Add("X-API-Key", account.ApiKey);
        request.Headers.Add("Origin", "https://evil.example.com");

        using var response = await http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [TestCase("GET")]
    [TestCase("DELETE")]
    public async Task Mcp_OtherMethods_405AllowPost(string method)
    {
        using var account = await RegisterAsync();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), McpClients.EndpointOf(Host));
        request.Headers.Add("X-API-Key", account.ApiKey);

        using var response = await http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.MethodNotAllowed));
        Assert.That(response.Content.Headers.Allow, Is.EquivalentTo(new[] { "POST" }));
    }

    HttpRequestMessage Initialize() => new(HttpMethod.Post, McpClients.EndpointOf(Host))
    {
        Content = new StringContent(
            """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""",
            System.Text.Encoding.UTF8, "application/json"),
        Headers = { { "Accept", "application/json, text/event-stream" } },
    };

    static OrchflowClient Client(OrchflowClient account) => account;

    static Dictionary<string, JsonElement> Arguments(JsonObject arguments) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(arguments.ToJsonString())!;

    static UpdateTaskRequestParams Update(string taskId, string key, JsonObject content) => new()
    {
        TaskId = taskId,
        InputResponses = new Dictionary<string, InputResponse>
        {
            [key] = InputResponse.FromElicitResult(new ElicitResult
            {
                Action = "accept",
                Content = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(content.ToJsonString()),
            }),
        },
    };
}
