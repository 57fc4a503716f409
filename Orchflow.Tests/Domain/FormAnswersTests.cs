using Orchflow.Domain;

namespace Orchflow.Tests.Domain;

/// <summary>
/// Answers to a form (docs/api.md, "Forms"): checked by the JSON Schema library against the task's schema, every
/// problem under <c>input.&lt;field&gt;</c>, and given to the agents as text, field by field with their titles.
/// </summary>
[TestFixture]
public sealed class FormAnswersTests
{
    public const string Schema = """
        {"type":"object","properties":{
          "budget_usd":{"type":"integer","title":"Monthly budget","minimum":0,"maximum":100000},
          "tone":{"type":"string","title":"Tone","enum":["direct","playful"]},
          "contact":{"type":"string","title":"Contact","format":"email","maxLength":40},
          "notes":{"type":"string","title":"Notes"},
          "public":{"type":"boolean","title":"Public launch"}},
         "required":["budget_usd","tone"]}
        """;

    [Test]
    public void Check_AnswerKeepingTheForm_NoProblems() =>
        Assert.That(FormAnswers.Check(Schema, """{"budget_usd":5000,"tone":"direct","contact":"ana@example.com","public":true}"""), Is.Empty);

    [TestCase("""{"budget_usd":5000,"tone":"direct","color":"red"}""", "input.color", "not a field of this form")]
    [TestCase("""{"budget_usd":"5000","tone":"direct"}""", "input.budget_usd", "Monthly budget")]
    [TestCase("""{"budget_usd":50.5,"tone":"direct"}""", "input.budget_usd", "integer")]
    [TestCase("""{"budget_usd":-1,"tone":"direct"}""", "input.budget_usd", "0")]
    [TestCase("""{"budget_usd":1e400,"tone":"direct"}""", "input.budget_usd", "finite")]
    [TestCase("""{"budget_usd":123456789012345678901234567890,"tone":"direct"}""", "input.budget_usd", "exactly")]
    [TestCase("""{"budget_usd":5,"tone":"shouty"}""", "input.tone", "choose one of direct, playful")]
    [TestCase("""{"budget_usd":5,"tone":"direct","contact":"not an address"}""", "input.contact", "email")]
    [TestCase("""{"budget_usd":5,"tone":"direct","contact":"a-very-long-name-indeed@a-long-domain.example.com"}""", "input.contact", "40")]
    [TestCase("""{"budget_usd":5,"tone":"direct","public":"yes"}""", "input.public", "boolean")]
    [TestCase("""{"budget_usd":5,"tone":"direct","notes":null}""", "input.notes", "not null")]
    [TestCase("""{"budget_usd":5,"tone":"direct","notes":"a\u0000b"}""", "input.notes", "control characters")]
    [TestCase("""{"tone":"direct"}""", "input.budget_usd", "'Monthly budget' is required.")]
    public void Check_BadAnswer_NamesTheField(string input, string field, string says)
    {
        var problems = FormAnswers.Check(Schema, input);

        Assert.That(problems.Where(p => p.Field == field).Select(p => p.Message), Has.Some.Contains(says), string.Join("; ", problems));
    }

    [Test]
    public void Check_EveryProblem_ReportedOnceEachUnderItsField()
    {
        var problems = FormAnswers.Check(Schema, """{"tone":"loud","contact":"x","public":1,"extra":true}""");

        Assert.That(problems.Select(p => p.Field).Distinct(), Is.EquivalentTo(new[]
        {
            "input.budget_usd", "input.tone", "input.contact", "input.public", "input.extra",
        }));
        Assert.That(problems.Count(p => p.Field == "input.extra"), Is.EqualTo(1), "the library's own word on an extra field is not said twice");
    }

    [Test]
    public void Text_FieldsByTitleAndName_InTheFormsOrder()
    {
        var text = FormAnswers.Text(Schema, """{"public":false,"tone":"direct","budget_usd":5000,"notes":"Line one.\nLine two."}""");

        Assert.That(text, Is.EqualTo(
            "- **Monthly budget** (`budget_usd`): 5000\n" +
            "- **Tone** (`tone`): direct\n" +
            "- **Contact** (`contact`): not given\n" +
            "- **Notes** (`notes`): Line one.\n  Line two.\n" +
            "- **Public launch** (`public`): no"));
    }
}
