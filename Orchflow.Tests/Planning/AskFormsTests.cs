using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Models;
using Orchflow.Planning;

namespace Orchflow.Tests.Planning;

/// <summary>
/// The forms of the tasks that ask a run's ask_me_about topics (docs/api.md, "Forms"): one required string field per
/// plain topic, named in snake_case and titled with the topic, object entries as given, on the first human task that
/// asks each, whoever planned the graph.
/// </summary>
[TestFixture]
public sealed class AskFormsTests
{
    [TestCase("company details", "company_details")]
    [TestCase("  Brand voice & tone!  ", "brand_voice_tone")]
    [TestCase("2026 budget", "_2026_budget")]
    [TestCase("Größe des Teams", "größe_des_teams")]
    [TestCase("???", "field")]
    public void NameOf_Topic_SnakeCase(string topic, string name) => Assert.That(AskFields.NameOf(topic), Is.EqualTo(name));

    [Test]
    public void Plain_SameNameTwice_SecondGetsASuffix()
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);

        var names = new[] { "Company details", "company-details", "company details!" }.Select(t => AskFields.Plain(t, taken).Name);

        Assert.That(names, Is.EqualTo(new[] { "company_details", "company_details_2", "company_details_3" }));
    }

    [Test]
    public void Apply_PlainTopicsAndAnObjectEntry_FormOnTheTaskThatAsksThem()
    {
        var taken = new HashSet<string>(["budget_usd"], StringComparer.Ordinal);
        var budget = new AskField("budget_usd", "Monthly budget", """{"type":"integer","title":"Monthly budget","minimum":0}""", Plain: false);
        var definition = Definition(["company details", "Monthly budget"]) with { AskFields = [AskFields.Plain("company details", taken), budget] };
        List<PlannedTask> tasks =
        [
            new("T1", "Provide company details and budget", "", TaskKind.Human, null, [], "Tell us the company details and the Monthly budget."),
            new("T2", "Research", "", TaskKind.Agent, "research", []),
            new("T3", "Approve", "", TaskKind.Human, null, ["T2"], "Approve the company details used."),
        ];

        var applied = AskForms.Apply(tasks, definition);

        var fields = InputSchemas.Fields(applied[0].InputSchema!);
        Assert.Multiple(() =>
        {
            Assert.That(fields.Select(f => (f.Name, f.Type, f.Label, f.Required)), Is.EqualTo(new[]
            {
                ("company_details", "string", "company details", true), ("budget_usd", "integer", "Monthly budget", true),
            }));
            Assert.That(fields[0].Property["minLength"]!.GetValue<int>(), Is.EqualTo(1), "an empty text does not answer a required topic");
            Assert.That(applied[1].InputSchema, Is.Null);
            Assert.That(applied[2].InputSchema, Is.Null, "a field is asked once, by the first task that asks it");
        });
    }

    [Test]
    public void Apply_TaskWithItsOwnForm_KeepsIt()
    {
        const string own = """{"type":"object","properties":{"company_details":{"type":"string"}},"required":[]}""";
        List<PlannedTask> tasks = [new("T1", "Context", "", TaskKind.Human, null, [], "Tell us the company details.", own)];

        Assert.That(AskForms.Apply(tasks, Definition(["company details"]))[0].InputSchema, Is.EqualTo(own));
    }

    [Test]
    public void Check_TopicAskedByAFormFieldOfItsName_Covered()
    {
        const string own = """{"type":"object","properties":{"budget_usd":{"type":"integer"}},"required":["budget_usd"]}""";
        var definition = Definition(["Monthly budget"]) with
        {
            AskFields = [new AskField("budget_usd", "Monthly budget", """{"type":"integer"}""", Plain: false)],
        };
        List<PlannedTask> tasks =
        [
            new("T1", "Money", "", TaskKind.Human, null, [], "How much?", own),
            new("T2", "Write", "", TaskKind.Agent, "writer", ["T1"]),
        ];

        Assert.Multiple(() =>
        {
            Assert.That(PlanValidator.Check(tasks, definition, definition.Agents), Is.Empty);
            Assert.That(PlanValidator.Check([tasks[0] with { InputSchema = null }, tasks[1]], definition, definition.Agents), Is.Not.Empty,
                "neither named nor a field of its form");
        });
    }

    [Test]
    public async Task PlanAsync_SimulatedModel_TheAskTaskHasOneRequiredStringFieldPerTopic()
    {
        var definition = Definition(["company details", "brand voice"]);
        var planner = new Planner(TimeProvider.System, NullLogger<Planner>.Instance);

        var result = await planner.PlanAsync(new SimulatedRunModel(Options.Create(new SimulatedModelOptions { LatencyMs = 0 }), TimeProvider.System), definition, definition.Agents, CancellationToken.None);

        var asker = result.Plan.Tasks.Single(t => t.Kind == TaskKind.Human);
        const string expected = """
            {"type":"object","properties":{"company_details":{"type":"string","title":"company details","minLength":1},"brand_voice":{"type":"string","title":"brand voice","minLength":1}},"required":["company_details","brand_voice"]}
            """;
        Assert.That(JsonNode.Parse(asker.InputSchema!)!.ToJsonString(), Is.EqualTo(expected));
    }

    static RunDefinition Definition(IReadOnlyList<string> topics) =>
        new("Research competitors and write a launch plan.", AgentCatalog.Resolve([]), topics, [], false, null, null);
}
