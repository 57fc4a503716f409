using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using Orchflow.Domain;
using Orchflow.Functions.Mcp;

namespace Orchflow.Tests.Functions.Mcp;

/// <summary>A run's waiting tasks as MCP elicitations, and clients' responses as the answers POST /complete takes.</summary>
[TestFixture]
public sealed class InputRequestsTests
{
    static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    static TaskRecord Human(string? schema = null) => new()
    {
        TaskId = "T1", Name = "Provide company details", Kind = TaskKind.Human, State = TaskState.WaitingHuman, Prompt = "Tell us about the company.",
        InputSchema = schema,
    };

    static TaskRecord Draft(int round = 0) => new()
    {
        TaskId = "T2", Name = "Draft the plan", Kind = TaskKind.Agent, Agent = "writer", State = TaskState.WaitingHuman, Output = "The draft.",
        ReviewRound = round,
    };

    static TaskRecord Calling() => Draft() with
    {
        TaskId = "T3",
        ToolCalls =
        [
            new ToolCall
            {
                CallId = "tc_1", Step = 1, ModelCallId = "m1", Tool = "mcs_x/send_email", Arguments = """{"to":"a@example.com"}""",
                State = ToolCallState.WaitingHuman, StartedAt = Now,
            },
        ],
    };

    static JsonNode Request(TaskRecord task)
    {
        var run = new RunRecord
        {
            RunId = "run_0f3k9tq2zm7c8d1v4x6b", AccountId = "acc_1", Status = RunStatus.WaitingHuman, Definition = new RunDefinition("Goal", [], [], [], false, null, null),
            CreatedAt = Now, UpdatedAt = Now, Tasks = [task],
        };
        var (key, request) = InputRequests.Of(run).Single();
        Assert.That(key, Is.EqualTo(InputRequests.KeyOf(task)));
        return JsonNode.Parse(JsonSerializer.Serialize(request, McpJsonUtilities.DefaultOptions))!;
    }

    static JsonElement Response(string action, JsonObject? content = null) =>
        JsonSerializer.SerializeToElement(new JsonObject { ["action"] = action, ["content"] = content ?? new JsonObject() });

    [Test]
    public void Of_HumanTaskWithoutForm_OneRequiredAnswerField()
    {
        var request = Request(Human());

        Assert.Multiple(() =>
        {
            Assert.That(request["method"]!.GetValue<string>(), Is.EqualTo("elicitation/create"));
            Assert.That(request["params"]!["message"]!.GetValue<string>(), Does.Contain("Tell us about the company."));
            Assert.That(request["params"]!["requestedSchema"]!["properties"]!.AsObject().Select(p => p.Key), Is.EqualTo(new[] { "answer" }));
            Assert.That(request["params"]!["requestedSchema"]!["required"]!.AsArray().Select(n => n!.GetValue<string>()), Is.EqualTo(new[] { "answer" }));
        });
    }

    [Test]
    public void Of_HumanTaskWithForm_ItsInputSchemaAsRequested()
    {
        var schema = """{"type":"object","properties":{"budget_usd":{"type":"integer","title":"Monthly budget","minimum":0}},"required":["budget_usd"]}""";

        var requested = Request(Human(schema))["params"]!["requestedSchema"]!;

        Assert.That(requested["properties"]!["budget_usd"]!["minimum"]!.GetValue<int>(), Is.Zero);
        Assert.That(requested["required"]!.AsArray().Select(n => n!.GetValue<string>()), Is.EqualTo(new[] { "budget_usd" }));
    }

    [Test]
    public void Of_DraftAndToolCall_AVerdictFormWithANewKeyPerQuestion()
    {
        var draft = Request(Draft(round: 1))["params"]!;
        var call = Request(Calling())["params"]!;

        Assert.Multiple(() =>
        {
            Assert.That(InputRequests.KeyOf(Draft(round: 1)), Is.EqualTo("T2.review1"));
            Assert.That(InputRequests.KeyOf(Calling()), Is.EqualTo("T3.tc_1"));
            Assert.That(draft["message"]!.GetValue<string>(), Does.Contain("The draft."));
            Assert.That(draft["requestedSchema"]!["properties"]!.AsObject().Select(p => p.Key), Is.EquivalentTo(new[] { "approved", "output", "feedback" }));
            Assert.That(call["message"]!.GetValue<string>(), Does.Contain("mcs_x/send_email").And.Contain("a@example.com"));
            Assert.That(call["requestedSchema"]!["properties"]!.AsObject().Select(p => p.Key), Is.EquivalentTo(new[] { "approved", "arguments", "feedback" }));
            Assert.That(InputRequests.TaskIdOf("T3.tc_1"), Is.EqualTo("T3"));
            Assert.That(InputRequests.TaskIdOf("plan"), Is.Null);
        });
    }

    [Test]
    public void Answer_HumanTask_TextOrFormFieldsAsPostCompleteTakesThem()
    {
        var text = InputRequests.Answer(Human(), Response("accept", new JsonObject { ["answer"] = "A workflow API." }))!;
        var form = InputRequests.Answer(Human("{}"), Response("accept", new JsonObject { ["budget_usd"] = 5 }))!;

        Assert.Multiple(() =>
        {
            Assert.That(text.Output, Is.EqualTo("A workflow API."));
            Assert.That(form.Input!["budget_usd"]!.GetValue<int>(), Is.EqualTo(5));
            Assert.That(InputRequests.Answer(Human(), Response("decline")), Is.Null, "declining a question leaves it waiting");
            Assert.That(InputRequests.Answer(Human(), Response("cancel")), Is.Null);
        });
    }

    [Test]
    public void Answer_Draft_ApproveEditOrSendBack()
    {
        var approved = InputRequests.Answer(Draft(), Response("accept", new JsonObject { ["approved"] = true }))!;
        var edited = InputRequests.Answer(Draft(), Response("accept", new JsonObject { ["approved"] = true, ["output"] = "Better." }))!;
        var back = InputRequests.Answer(Draft(), Response("accept", new JsonObject { ["approved"] = false, ["feedback"] = "Shorter." }))!;
        var declined = InputRequests.Answer(Draft(), Response("decline", new JsonObject { ["feedback"] = "No." }))!;

        Assert.Multiple(() =>
        {
            Assert.That((approved.Approved, approved.Output), Is.EqualTo((true, (string?)null)));
            Assert.That((edited.Approved, edited.Output), Is.EqualTo(((bool?)null, "Better.")));
            Assert.That((back.Approved, back.Feedback), Is.EqualTo((false, "Shorter.")));
            Assert.That((declined.Approved, declined.Feedback), Is.EqualTo((false, "No.")));
        });
    }

    [Test]
    public void Answer_ToolCall_LetThroughEditedOrRefused()
    {
        var edited = InputRequests.Answer(Calling(), Response("accept", new JsonObject { ["approved"] = true, ["arguments"] = """{"to":"b@example.com"}""" }))!;
        var refused = InputRequests.Answer(Calling(), Response("accept", new JsonObject { ["approved"] = false, ["feedback"] = "Not now." }))!;

        Assert.Multiple(() =>
        {
            Assert.That(edited.Approved, Is.True);
            Assert.That(edited.Arguments!["to"]!.GetValue<string>(), Is.EqualTo("b@example.com"));
            Assert.That((refused.Approved, refused.Feedback, refused.Arguments), Is.EqualTo((false, "Not now.", (JsonObject?)null)));
            Assert.Throws<McpProtocolException>(() => InputRequests.Answer(Calling(), Response("accept", new JsonObject { ["approved"] = true, ["arguments"] = "[1]" })));
        });
    }
}
