using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchflow.Tests.Integration.Api;

/// <summary>
/// The document's schemas as a validator reads them: every example is valid against its schema, and the rules between
/// fields that are written as if/then/else (so client generators make one model of a request) accept and refuse
/// exactly what the contract does.
/// </summary>
[TestFixture]
public sealed class OpenApiExamplesTests
{
    static OpenApiContract Contract => OpenApiContract.Embedded;

    static IEnumerable<TestCaseData> Examples() =>
        OpenApiContract.Embedded.Root.GetProperty("components").GetProperty("schemas").EnumerateObject()
            .Where(s => s.Value.TryGetProperty("examples", out _))
            .SelectMany(s => s.Value.GetProperty("examples").EnumerateArray()
                .Select((e, i) => new TestCaseData(s.Name, e.GetRawText()).SetName($"Example_{s.Name}{i}_IsValidAgainstItsSchema")));

    [TestCaseSource(nameof(Examples))]
    public void Example_OfASchema_IsValidAgainstIt(string schema, string example)
    {
        Assert.That(Contract.CheckSchema(schema, JsonNode.Parse(example)), Is.Empty);
    }

    static IEnumerable<TestCaseData> Bodies()
    {
        static TestCaseData Case(string schema, string body, bool valid, string name) =>
            new TestCaseData(schema, body, valid).SetName($"Schema_{schema}_{name}");

        yield return Case("CompleteTaskRequest", """{"output":"An answer."}""", true, "Answer_IsValid");
        yield return Case("CompleteTaskRequest", """{"output":"An edit.","approved":true}""", true, "ApprovedEdit_IsValid");
        yield return Case("CompleteTaskRequest", """{"approved":true}""", true, "Approval_IsValid");
        yield return Case("CompleteTaskRequest", """{"approved":false,"feedback":"Shorter."}""", true, "Rejection_IsValid");
        yield return Case("CompleteTaskRequest", """{"approved":true,"arguments":{"to":"a@example.com"}}""", true, "EditedArguments_AreValid");
        yield return Case("CompleteTaskRequest", """{}""", false, "Empty_IsRefused");
        yield return Case("CompleteTaskRequest", """{"approved":false}""", false, "RejectionWithoutFeedback_IsRefused");
        yield return Case("CompleteTaskRequest", """{"output":"x","approved":false,"feedback":"y"}""", false, "OutputWithRejection_IsRefused");
        yield return Case("CompleteTaskRequest", """{"feedback":"y"}""", false, "FeedbackAlone_IsRefused");
        yield return Case("ReviewPlanRequest", """{"approved":true}""", true, "Approval_IsValid");
        yield return Case("ReviewPlanRequest", """{"approved":false,"feedback":"Fewer steps."}""", true, "Rejection_IsValid");
        yield return Case("ReviewPlanRequest", """{"approved":true,"feedback":"x"}""", false, "ApprovalWithFeedback_IsRefused");
        yield return Case("ReviewPlanRequest", """{"approved":false}""", false, "RejectionWithoutFeedback_IsRefused");
        yield return Case("ReviewPlanRequest", """{"approved":false,"feedback":"x","plan":{"tasks":[{"task_id":"T1","name":"n","kind":"agent","agent":"writer"}]}}""",
            false, "RejectionWithAPlan_IsRefused");
        yield return Case("PlanTask", """{"task_id":"T1","name":"Write","kind":"agent","agent":"writer"}""", true, "AgentTask_IsValid");
        yield return Case("PlanTask", """{"task_id":"T1","name":"Ask","kind":"human","prompt":"What?"}""", true, "HumanTask_IsValid");
        yield return Case("PlanTask", """{"task_id":"T1","name":"Write","kind":"agent"}""", false, "AgentTaskWithoutAgent_IsRefused");
        yield return Case("PlanTask", """{"task_id":"T1","name":"Ask","kind":"human"}""", false, "HumanTaskWithoutPrompt_IsRefused");
        yield return Case("CreateProviderRequest", """{"provider":"openai","api_key":"k","model":"m"}""", true, "PublicEndpoint_IsValid");
        yield return Case("CreateProviderRequest", """{"provider":"azure_openai","api_key":"k","model":"m"}""", false, "AzureWithoutEndpoint_IsRefused");
        yield return Case("StartRunRequest", """{"task":"Research pricing."}""", true, "TaskAlone_IsValid");
        yield return Case("StartRunRequest", """{"task":"Research pricing.","max_tool_calls":51}""", false, "TooManyToolCalls_IsRefused");
        yield return Case("StartRunRequest", """{"task":"Research pricing.","require_approval":"yes"}""", false, "SwitchNotABoolean_IsRefused");
        yield return Case("TaskWaitingHumanEvent",
            """{"sequence":7,"type":"task.waiting_human","created_at":"2026-12-02T10:15:30Z","task_id":"T1","data":{"prompt":"What?","draft_available":true}}""",
            false, "DataWithTwoReasons_IsRefused");
        yield return Case("RunRunningEvent",
            """{"sequence":4,"type":"run.running","created_at":"2026-12-02T10:15:30Z","task_id":"T1","data":{}}""", false, "WithATaskId_IsRefused");
    }

    [TestCaseSource(nameof(Bodies))]
    public void Schema_Body_IsValidExactlyWhenTheContractSays(string schema, string body, bool valid)
    {
        var problems = Contract.CheckSchema(schema, JsonNode.Parse(body));

        Assert.That(problems, valid ? Is.Empty : Is.Not.Empty, string.Join("\n", problems));
    }

    [Test]
    public void Document_ErrorResponses_AllNameTheOneProblemSchema()
    {
        var schemas = new List<string>();
        Collect(Contract.Root, schemas);

        Assert.That(schemas, Is.Not.Empty.And.All.EqualTo("#/components/schemas/Problem"));
    }

    /// <summary>The <c>$ref</c> of every <c>application/problem+json</c> schema in the document.</summary>
    static void Collect(JsonElement element, List<string> refs)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Collect(item, refs);
            }
        }
        else if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.Name == "application/problem+json")
                {
                    refs.Add(property.Value.GetProperty("schema").TryGetProperty("$ref", out var r) ? r.GetString()! : "(inline)");
                }
                else
                {
                    Collect(property.Value, refs);
                }
            }
        }
    }
}
