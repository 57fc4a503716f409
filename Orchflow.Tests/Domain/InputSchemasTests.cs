using System.Text.Json.Nodes;
using Orchflow.Domain;

namespace Orchflow.Tests.Domain;

/// <summary>
/// The forms of human tasks (docs/api.md, "Forms"): schemas kept to MCP elicitation's subset of JSON Schema, anything
/// outside it or past its bounds refused with the path of each problem.
/// </summary>
[TestFixture]
public sealed class InputSchemasTests
{
    const string At = "plan.tasks[0].input_schema";

    [Test]
    public void Read_SchemaInTheSubset_KeptWithItsFieldsInOrder()
    {
        var (schema, problems) = Read("""
            {"type": "object",
             "properties": {
               "budget_usd": {"type": "integer", "title": "Monthly budget", "minimum": 0, "maximum": 1000000},
               "tone": {"type": "string", "title": "Tone", "description": "How we sound.", "enum": ["direct", "playful"]},
               "contact": {"type": "string", "format": "email", "minLength": 3, "maxLength": 120},
               "launch": {"type": "string", "format": "date"},
               "share": {"type": "number", "minimum": 0.5},
               "public": {"type": "boolean", "title": "Public launch"}},
             "required": ["budget_usd", "tone"]}
            """);

        var fields = InputSchemas.Fields(schema!);
        Assert.Multiple(() =>
        {
            Assert.That(problems, Is.Empty);
            Assert.That(fields.Select(f => (f.Name, f.Type, f.Required)), Is.EqualTo(new[]
            {
                ("budget_usd", "integer", true), ("tone", "string", true), ("contact", "string", false), ("launch", "string", false),
                ("share", "number", false), ("public", "boolean", false),
            }));
            Assert.That(fields[0].Label, Is.EqualTo("Monthly budget"));
            Assert.That(fields[2].Label, Is.EqualTo("contact"), "a field without a title is shown by its name");
            Assert.That(fields[4].Property["minimum"]!.GetValue<double>(), Is.EqualTo(0.5));
        });
    }

    [TestCase("""{"type":"object","properties":{"company":{"type":"object","properties":{"name":{"type":"string"}}}}}""",
        At + ".properties.company.type")]
    [TestCase("""{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string"}}}}""", At + ".properties.tags.type")]
    [TestCase("""{"type":"object","properties":{"who":{"$ref":"#/$defs/person"}},"$defs":{"person":{"type":"string"}}}""", At + ".properties.who.$ref")]
    [TestCase("""{"type":"object","properties":{"site":{"type":"string","format":"hostname"}}}""", At + ".properties.site.format")]
    [TestCase("""{"type":"object","properties":{"site":{"type":"string","pattern":"^a"}}}""", At + ".properties.site.pattern")]
    [TestCase("""{"type":"object","properties":{"n":{"type":"integer","maxLength":3}}}""", At + ".properties.n.maxLength")]
    [TestCase("""{"type":"object","properties":{"n":{"type":"integer","minimum":5,"maximum":1}}}""", At + ".properties.n.minimum")]
    [TestCase("""{"type":"object","properties":{"n":{"type":"number","minimum":"0"}}}""", At + ".properties.n.minimum")]
    [TestCase("""{"type":"object","properties":{"s":{"type":"string","maxLength":2.5}}}""", At + ".properties.s.maxLength")]
    [TestCase("""{"type":"object","properties":{"s":{"type":"string","maxLength":40000}}}""", At + ".properties.s.maxLength")]
    [TestCase("""{"type":"object","properties":{"s":{"type":"string","enum":["a","a"]}}}""", At + ".properties.s.enum[1]")]
    [TestCase("""{"type":"object","properties":{"s":{"type":"string","enum":[1,2]}}}""", At + ".properties.s.enum[0]")]
    [TestCase("""{"type":"object","properties":{"s":{"type":"string","enum":[]}}}""", At + ".properties.s.enum")]
    [TestCase("""{"type":"object","properties":{"b":{"type":"boolean","default":true}}}""", At + ".properties.b.default")]
    [TestCase("""{"type":"object","properties":{"s":{"type":["string","null"]}}}""", At + ".properties.s.type")]
    [TestCase("""{"type":"object","properties":{"s":{"type":"string","title":""}}}""", At + ".properties.s.title")]
    [TestCase("""{"type":"object","properties":{"s":{"type":"string","title":"a\u0000b"}}}""", At + ".properties.s.title")]
    [TestCase("""{"type":"object","properties":{"s":true}}""", At + ".properties.s")]
    [TestCase("""{"type":"object","properties":{"a b":{"type":"string"}}}""", At + ".properties.a b")]
    [TestCase("""{"type":"object","properties":{"s":{"type":"string"}},"required":["t"]}""", At + ".required[0]")]
    [TestCase("""{"type":"object","properties":{"s":{"type":"string"}},"required":"s"}""", At + ".required")]
    [TestCase("""{"type":"object","properties":{"s":{"type":"string"}},"additionalProperties":false}""", At + ".additionalProperties")]
    [TestCase("""{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"s":{"type":"string"}}}""", At + ".$schema")]
    [TestCase("""{"type":"array","properties":{"s":{"type":"string"}}}""", At + ".type")]
    [TestCase("""{"type":"object","properties":{}}""", At + ".properties")]
    [TestCase("""{"type":"object"}""", At + ".properties")]
    [TestCase("""[]""", At)]
    public void Read_OutsideTheSubset_RefusedNamingThePath(string json, string field)
    {
        var (schema, problems) = Read(json);

        Assert.Multiple(() =>
        {
            Assert.That(schema, Is.Null);
            Assert.That(problems.Select(p => p.Field), Does.Contain(field), string.Join("; ", problems));
        });
    }

    [Test]
    public void Read_AThousandProperties_RefusedSayingHowMany()
    {
        var properties = new JsonObject();
        for (var i = 0; i < 1000; i++)
        {
            properties[$"f{i}"] = new JsonObject { ["type"] = "string" };
        }

        var (schema, problems) = Read(new JsonObject { ["type"] = "object", ["properties"] = properties }.ToJsonString());

        Assert.Multiple(() =>
        {
            Assert.That(schema, Is.Null);
            Assert.That(problems, Is.EqualTo(new[] { (At + ".properties", $"A form has at most {InputSchemas.MaxProperties} fields (got 1000).") }));
        });
    }

    [Test]
    public void Read_HugeEnums_RefusedByCountByLengthAndByTheWholeSchemasSize()
    {
        var many = Enumerable.Range(0, 5000).Select(i => (JsonNode)$"choice {i}").ToArray();
        var (tooMany, manyProblems) = Read(Form(new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(many) }));
        var (tooLong, longProblems) = Read(Form(new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(new string('x', 201)) }));
        var wide = new JsonObject();
        for (var i = 0; i < 20; i++)
        {
            wide[$"f{i}"] = new JsonObject
            {
                ["type"] = "string", ["enum"] = new JsonArray(Enumerable.Range(0, 100).Select(j => (JsonNode)$"a fairly long choice number {j}").ToArray()),
            };
        }

        var (tooBig, bigProblems) = Read(new JsonObject { ["type"] = "object", ["properties"] = wide }.ToJsonString());

        Assert.Multiple(() =>
        {
            Assert.That(tooMany, Is.Null);
            Assert.That(manyProblems.Single().Message, Does.Contain("(got 5000)"));
            Assert.That(tooLong, Is.Null);
            Assert.That(longProblems.Single().Field, Is.EqualTo(At + ".properties.f.enum[0]"));
            Assert.That(tooBig, Is.Null);
            Assert.That(bigProblems.Single().Field, Is.EqualTo(At));
            Assert.That(bigProblems.Single().Message, Does.Contain($"at most {InputSchemas.MaxJsonLength}"));
        });
    }

    [Test]
    public void Read_SeveralProblems_EveryOneNamedAtOnce()
    {
        var (_, problems) = Read("""
            {"type":"object","properties":{"a":{"type":"object"},"b":{"type":"string","format":"phone"},"c":{"type":"integer","enum":["x"]}},"required":["zz"]}
            """);

        Assert.That(problems.Select(p => p.Field), Is.EquivalentTo(new[]
        {
            At + ".properties.a.type", At + ".properties.b.format", At + ".properties.c.enum", At + ".required[0]",
        }));
    }

    [TestCase("budget_usd", true)]
    [TestCase("Straße", true)]
    [TestCase("_x-1", true)]
    [TestCase("1st", false)]
    [TestCase("a.b", false)]
    [TestCase("", false)]
    public void IsName_LettersDigitsUnderscoreDash(string name, bool valid) => Assert.That(InputSchemas.IsName(name), Is.EqualTo(valid));

    static string Form(JsonObject property) =>
        new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["f"] = property } }.ToJsonString();

    static (string? Schema, List<(string Field, string Message)> Problems) Read(string json)
    {
        var problems = new List<(string Field, string Message)>();
        var schema = InputSchemas.Read(JsonNode.Parse(json), At, problems);
        return (schema, problems);
    }
}
