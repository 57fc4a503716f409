using Orchflow.Tools;

namespace Orchflow.Tests.Tools;

[TestFixture]
public sealed class ToolServerHeadersTests
{
    [TestCase("Authorization")]
    [TestCase("X-API-Key")]
    [TestCase("x-custom_token.v2")]
    public void NameProblem_TokenName_None(string name) => Assert.That(ToolServerHeaders.NameProblem(name), Is.Null);

    [TestCase("", "1 to 100")]
    [TestCase("Bad Name", "'Bad Name' is not one")]
    [TestCase("Naïve", "is not one")]
    [TestCase("Mcp-Session-Id", "set by Orchflow's MCP client itself")]
    [TestCase("host", "set by Orchflow's MCP client itself")]
    [TestCase("Cookie", "set by Orchflow's MCP client itself")]
    public void NameProblem_NotSendable_Named(string name, string expected) =>
        Assert.That(ToolServerHeaders.NameProblem(name), Does.Contain(expected));

    [TestCase(null, "non-empty string")]
    [TestCase("", "non-empty string")]
    [TestCase("Bearer a\r\nX-Injected: 1", "printable ASCII")]
    [TestCase("Bearer clé", "printable ASCII")]
    public void ValueProblem_NotSendable_NamedWithoutTheValue(string? value, string expected)
    {
        var problem = ToolServerHeaders.ValueProblem("Authorization", value);

        Assert.Multiple(() =>
        {
            Assert.That(problem, Does.StartWith("'headers.Authorization'").And.Contain(expected));
            Assert.That(problem, Does.Not.Contain("Bearer"));
        });
    }

    [Test]
    public void ValueProblem_TooLong_SaysTheLength() =>
        Assert.That(ToolServerHeaders.ValueProblem("X", new string('a', 4_001)), Does.Contain("at most 4000 characters (got 4001)"));

    [Test]
    public void Serialize_RoundTrips()
    {
        var headers = new Dictionary<string, string> { ["Authorization"] = "Bearer t", ["X-Org"] = "42" };

        Assert.That(ToolServerHeaders.Deserialize(ToolServerHeaders.Serialize(headers)), Is.EquivalentTo(headers));
    }
}
