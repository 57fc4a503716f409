using System.Net;
using System.Text.Json.Nodes;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// Forms, structured human input (docs/api.md, "Forms"), over real HTTP on the standalone host: the task that asks the
/// run's topics waits with a form, its wait event and webhook carry it, an answer's fields are checked (every problem
/// in one 422 under input.&lt;field&gt;, nothing stored) and reach the agents by title and name; schemas outside the
/// subset are refused naming their path.
/// </summary>
[TestFixture]
public sealed class FormsApiTests : HostedTests
{
    static readonly JsonArray AskMeAbout =
    [
        "company details",
        new JsonObject { ["name"] = "budget_usd", ["title"] = "Monthly budget", ["type"] = "integer", ["minimum"] = 0 },
        new JsonObject { ["name"] = "tone", ["title"] = "Tone", ["type"] = "string", ["enum"] = new JsonArray("direct", "playful"), ["required"] = false },
        new JsonObject { ["name"] = "slogan", ["type"] = "string", ["maxLength"] = 20, ["required"] = false },
    ];

    WebhookReceiver receiver = null!;

    [OneTimeSetUp]
    public async Task StartReceiverAsync() => receiver = await WebhookReceiver.StartAsync();

    [OneTimeTearDown]
    public async Task StopReceiverAsync() => await receiver.DisposeAsync();

    [Test]
    public async Task StartRun_AskMeAboutTopicsAndFields_T1WaitsWithTheFormAndItsEventAndWebhookCarryIt()
    {
        using var client = await RegisterAsync();
        var path = "/forms/" + Guid.NewGuid().ToString("N");
        ApiAssert.Json(await client.SendAsync(HttpMethod.Post, "webhooks", new { url = receiver.Url(path), events = new[] { "task.waiting_human" } }),
            HttpStatusCode.Created);

        var (runId, run) = await StartWaitingAsync(client);

        var schema = run["subtasks"]!["T1"]!["input_schema"]!;
        var waited = (await client.EventsAsync(runId)).Single(e => e.Str("type") == "task.waiting_human" && e["task_id"]?.GetValue<string>() == "T1");
        var delivered = (await receiver.WaitForAsync(path, 1, TimeSpan.FromSeconds(60))).Single();
        Assert.Multiple(() =>
        {
            Assert.That(schema["properties"]!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { "company_details", "budget_usd", "tone", "slogan" }));
            Assert.That(schema["properties"]!["company_details"]!.ToJsonString(), Is.EqualTo("""{"type":"string","title":"company details","minLength":1}"""));
            Assert.That(schema["properties"]!["budget_usd"]!.ToJsonString(), Is.EqualTo("""{"type":"integer","title":"Monthly budget","minimum":0}"""));
            Assert.That(schema["required"]!.ToJsonString(), Is.EqualTo("""["company_details","budget_usd"]"""));
            Assert.That(run["subtasks"]!["T1"]!["input"], Is.Null);
            Assert.That(run["ask_me_about"]!.ToJsonString(), Is.EqualTo(
                """["company details",{"name":"budget_usd","type":"integer","title":"Monthly budget","minimum":0,"required":true},""" +
                """{"name":"tone","type":"string","title":"Tone","enum":["direct","playful"],"required":false},""" +
                """{"name":"slogan","type":"string","maxLength":20,"required":false}]"""));
            Assert.That(waited["data"]!["input_schema"]!.ToJsonString(), Is.EqualTo(schema.ToJsonString()), "the event alone draws the form");
            Assert.That(delivered.Json["data"]!["event"]!["data"]!["input_schema"]!.ToJsonString(), Is.EqualTo(schema.ToJsonString()),
                "so does the webhook");
        });
    }

    [Test]
    public async Task CompleteTask_FieldsKeepingTheForm_CompletedWithThemAndTheAgentsReadThemByTitle()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await StartWaitingAsync(client);
        var input = new JsonObject { ["company_details"] = "A workflow API.", ["budget_usd"] = 5000, ["tone"] = "direct" };

        var task = ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { input }), HttpStatusCode.OK);

        var done = await client.WaitForStatusAsync(runId, "completed");
        var agentOutputs = done["subtasks"]!.AsObject().Select(t => t.Value!).Where(t => t.Str("kind") == "agent" && t.Str("output").Contains("T1"))
            .Select(t => t.Str("output")).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(task.Str("state"), Is.EqualTo("completed"));
            Assert.That(task["input"]!.ToJsonString(), Is.EqualTo(input.ToJsonString()));
            Assert.That(task.Str("output"), Does.Contain("- **Monthly budget** (`budget_usd`): 5000").And.Contain("- **slogan** (`slogan`): not given"));
            Assert.That(done["subtasks"]!["T1"]!["input"]!.ToJsonString(), Is.EqualTo(input.ToJsonString()));
            Assert.That(agentOutputs, Is.Not.Empty.And.All.Contain("**Monthly budget** (`budget_usd`): 5000"), "agents read the fields by title and name");
            Assert.That(agentOutputs, Has.None.Contain("\"budget_usd\""), "not a JSON dump");
        });
    }

    [Test]
    public async Task CompleteTask_FreeTextToAFormTask_StillAnswersIt()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await StartWaitingAsync(client);

        var task = ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "About 5k a month; a workflow API." }), HttpStatusCode.OK);

        Assert.Multiple(() =>
        {
            Assert.That(task.Str("state"), Is.EqualTo("completed"));
            Assert.That(task["input"], Is.Null);
            Assert.That(task.Str("output"), Is.EqualTo("About 5k a month; a workflow API."));
        });
    }

    static IEnumerable<TestCaseData> BadAnswers()
    {
        const string ok = "\"company_details\":\"A workflow API.\",\"budget_usd\":10";
        yield return Bad("AnExtraField", "{\"input\":{" + ok + ",\"colour\":\"red\"}}", "input.colour");
        yield return Bad("AWrongType", "{\"input\":{\"company_details\":\"A workflow API.\",\"budget_usd\":\"ten\"}}", "input.budget_usd");
        yield return Bad("ANumberNotWhole", "{\"input\":{\"company_details\":\"A workflow API.\",\"budget_usd\":10.5}}", "input.budget_usd");
        // NaN is not JSON: the body is refused as malformed where it stops being JSON.
        yield return Bad("NaN", "{\"input\":{\"company_details\":\"A workflow API.\",\"budget_usd\":NaN}}", "input");
        yield return Bad("ANumberPastWhatADoubleHolds", "{\"input\":{\"company_details\":\"A workflow API.\",\"budget_usd\":1e400}}", "input.budget_usd");
        yield return Bad("BelowTheMinimum", "{\"input\":{\"company_details\":\"A workflow API.\",\"budget_usd\":-1}}", "input.budget_usd");
        yield return Bad("AStringPastMaxLength", "{\"input\":{" + ok + ",\"slogan\":\"" + new string('s', 21) + "\"}}", "input.slogan");
        yield return Bad("AValueOutsideTheEnum", "{\"input\":{" + ok + ",\"tone\":\"shouty\"}}", "input.tone");
        yield return Bad("ARequiredFieldMissing", "{\"input\":{\"budget_usd\":10}}", "input.company_details");
        yield return Bad("AnEmptyRequiredText", "{\"input\":{\"company_details\":\"\",\"budget_usd\":10}}", "input.company_details");
        yield return Bad("NotAnObject", "{\"input\":[1,2]}", "input");
        yield return Bad("BothInputAndOutput", "{\"output\":\"Text.\",\"input\":{" + ok + "}}", "input");
        yield return Bad("EveryProblemAtOnce", "{\"input\":{\"budget_usd\":\"x\",\"tone\":\"loud\",\"colour\":1}}",
            "input.company_details", "input.budget_usd", "input.tone", "input.colour");
    }

    static TestCaseData Bad(string what, string body, params string[] fields) =>
        new TestCaseData(body, fields).SetName($"CompleteTask_InputWith{what}_Returns422NamingTheFieldAndStoresNothing");

    [TestCaseSource(nameof(BadAnswers))]
    public async Task CompleteTask_BadInput_Returns422NamingTheFieldAndStoresNothing(string body, string[] fields)
    {
        using var client = await RegisterAsync();
        var (runId, _) = await StartWaitingAsync(client);

        var response = await client.SendRawAsync(HttpMethod.Post, $"runs/{runId}/tasks/T1/complete", body);

        foreach (var field in fields)
        {
            ApiAssert.Invalid(response, field);
        }

        var after = await client.GetRunAsync(runId);
        // The rest of the run goes on meanwhile; what is T1's is as it was.
        var logged = (await client.EventsAsync(runId)).Where(e => e["task_id"]?.GetValue<string>() == "T1").Select(e => e.Str("type"));
        Assert.Multiple(() =>
        {
            Assert.That(after["subtasks"]!["T1"]!.Str("state"), Is.EqualTo("waiting_human"));
            Assert.That(after["subtasks"]!["T1"]!["input"], Is.Null);
            Assert.That(after["subtasks"]!["T1"]!["output"], Is.Null);
            Assert.That(logged, Is.EqualTo(new[] { "task.waiting_human" }), "nothing logged");
        });
    }

    static IEnumerable<TestCaseData> BadSchemas()
    {
        var thousand = new JsonObject();
        for (var i = 0; i < 1000; i++)
        {
            thousand[$"f{i}"] = new JsonObject { ["type"] = "string" };
        }

        var huge = new JsonArray(Enumerable.Range(0, 1000).Select(i => (JsonNode)$"choice {i}").ToArray());
        yield return Schema("WithANestedObject", Form(new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() }), ".properties.f.type");
        yield return Schema("WithAnArray", Form(new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" } }), ".properties.f.type");
        yield return Schema("WithARef", Form(new JsonObject { ["$ref"] = "#/$defs/x" }), ".properties.f.$ref");
        yield return Schema("WithAnUnknownFormat", Form(new JsonObject { ["type"] = "string", ["format"] = "ipv4" }), ".properties.f.format");
        yield return Schema("OfAThousandProperties", new JsonObject { ["type"] = "object", ["properties"] = thousand }, ".properties");
        yield return Schema("WithAHugeEnum", Form(new JsonObject { ["type"] = "string", ["enum"] = huge }), ".properties.f.enum");
        yield return Schema("WithAdditionalProperties", new JsonObject
        {
            ["type"] = "object", ["properties"] = new JsonObject { ["f"] = new JsonObject { ["type"] = "string" } }, ["additionalProperties"] = true,
        }, ".additionalProperties");
    }

    static JsonObject Form(JsonObject field) => new() { ["type"] = "object", ["properties"] = new JsonObject { ["f"] = field } };

    static TestCaseData Schema(string what, JsonObject schema, string at) =>
        new TestCaseData(schema.ToJsonString(), at).SetName($"StartRun_InputSchema{what}_Returns422NamingThePath");

    [TestCaseSource(nameof(BadSchemas))]
    public async Task StartRun_BadInputSchema_Returns422NamingThePathInThePlanAndInAskMeAbout(string schema, string at)
    {
        using var client = await RegisterAsync();
        var plan = JsonNode.Parse($$$"""
            {"task": "Draft a launch plan.", "plan": {"tasks": [
              {"task_id": "T1", "name": "Budget", "kind": "human", "depends_on": [], "prompt": "Tell us the budget.", "input_schema": {{{schema}}}},
              {"task_id": "T2", "name": "Write", "kind": "agent", "agent": "writer", "depends_on": ["T1"]}]}}
            """)!;
        var field = JsonNode.Parse(schema)!["properties"]!.AsObject().First().Value!.DeepClone().AsObject();
        field["name"] = "budget";
        var ask = new JsonObject { ["task"] = "Draft a launch plan.", ["ask_me_about"] = new JsonArray(field) };

        var planned = await client.SendRawAsync(HttpMethod.Post, "runs", plan.ToJsonString());
        ApiAssert.Invalid(planned, "plan.tasks[0].input_schema" + at);
        if (at.StartsWith(".properties.f.", StringComparison.Ordinal))
        {
            // The same field as an ask_me_about entry.
            ApiAssert.Invalid(await client.SendRawAsync(HttpMethod.Post, "runs", ask.ToJsonString()), "ask_me_about[0]" + at[".properties.f".Length..]);
        }

        var runs = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "runs"), HttpStatusCode.OK);
        Assert.That(runs["total"]!.GetValue<int>(), Is.Zero, "no run was started");
    }

    [Test]
    public async Task StartRun_AskMeAboutEntriesNeitherTopicNorField_Returns422NamingEach()
    {
        using var client = await RegisterAsync();

        var response = await client.SendRawAsync(HttpMethod.Post, "runs", """
            {"task": "Draft a launch plan.", "ask_me_about": [
              42,
              {"title": "No name", "type": "string"},
              {"name": "a.b", "type": "string"},
              {"name": "dup", "type": "boolean"}, {"name": "dup", "type": "integer"},
              {"name": "ok", "type": "string", "required": "yes"}]}
            """);

        foreach (var field in new[] { "ask_me_about[0]", "ask_me_about[1].name", "ask_me_about[2].name", "ask_me_about[4].name", "ask_me_about[5].required" })
        {
            ApiAssert.Invalid(response, field);
        }
    }

    [Test]
    public async Task StartRun_GivenPlanWithAForm_ItsHumanTaskWaitsWithIt()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(JsonNode.Parse("""
            {"task": "Draft a launch plan.", "plan": {"tasks": [
              {"task_id": "T1", "name": "Launch facts", "kind": "human", "depends_on": [], "prompt": "When and where?",
               "input_schema": {"type": "object", "properties": {"launch": {"type": "string", "format": "date", "title": "Launch date"},
                                "public": {"type": "boolean", "title": "Public"}}, "required": ["launch"]}},
              {"task_id": "T2", "name": "Write", "kind": "agent", "agent": "writer", "depends_on": ["T1"]}]}}
            """)!)).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");

        var wrong = await client.CompleteAsync(runId, "T1", new { input = new { launch = "next week", @public = true } });
        var right = await client.CompleteAsync(runId, "T1", new { input = new { launch = "2027-03-01", @public = true } });

        Assert.Multiple(() =>
        {
            Assert.That(ApiAssert.Invalid(wrong, "input.launch"), Does.Contain("Launch date"));
            Assert.That(ApiAssert.Json(right, HttpStatusCode.OK).Str("output"), Is.EqualTo("- **Launch date** (`launch`): 2027-03-01\n- **Public** (`public`): yes"));
        });
    }

    static async Task<(string RunId, JsonNode Run)> StartWaitingAsync(OrchflowClient client)
    {
        var runId = (await client.StartRunAsync(new JsonObject { ["task"] = RunScenarios.Goal, ["ask_me_about"] = AskMeAbout.DeepClone() })).Str("run_id");
        var run = await client.WaitForRunAsync(runId, r => r["subtasks"]?["T1"]?["state"]?.GetValue<string>() == "waiting_human");
        return (runId, run);
    }
}
