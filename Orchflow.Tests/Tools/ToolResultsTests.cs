using System.Text.Json;
using ModelContextProtocol.Protocol;
using Orchflow.Abstractions;
using Orchflow.Tools;

namespace Orchflow.Tests.Tools;

[TestFixture]
public sealed class ToolResultsTests
{
    [Test]
    public void Cut_WithinTheLimit_Unchanged()
    {
        var text = new string('x', ToolLimits.MaxResultChars);

        Assert.That(ToolResults.Cut(text), Is.SameAs(text));
    }

    [Test]
    public void Cut_OverTheLimit_WithinItAndSaysHowMuchThereWas()
    {
        var cut = ToolResults.Cut(new string('x', 200_000));

        Assert.Multiple(() =>
        {
            Assert.That(cut.Length, Is.LessThanOrEqualTo(ToolLimits.MaxResultChars));
            Assert.That(cut, Does.EndWith("\n[Cut by Orchflow: the result had 200,000 characters; the first 65,454 are shown.]"));
            Assert.That(cut.IndexOf('\n'), Is.EqualTo(65_454));
        });
    }

    [Test]
    public void Cut_AtASurrogatePair_NeverSplitsIt()
    {
        var cut = ToolResults.Cut(new string('x', 65_453) + string.Concat(Enumerable.Repeat("😀", 40_000)));

        Assert.That(char.IsHighSurrogate(cut[cut.IndexOf('\n') - 1]), Is.False);
    }

    [Test]
    public void Text_BlocksOfEveryKind_WrittenOut()
    {
        var result = new CallToolResult
        {
            Content =
            [
                new TextContentBlock { Text = "First." },
                ImageContentBlock.FromBytes(new byte[] { 1, 2, 3 }, "image/png"),
                new EmbeddedResourceBlock { Resource = new TextResourceContents { Uri = "file:///a.txt", Text = "inside" } },
                new ResourceLinkBlock { Name = "spec", Uri = "https://example.com/spec" },
            ],
        };

        Assert.That(ToolResults.Text(result), Is.EqualTo("First.\n[an image, image/png]\n[resource file:///a.txt]\ninside\n[link: spec https://example.com/spec]"));
    }

    [Test]
    public void Text_OnlyStructuredContent_ItsJson()
    {
        using var json = JsonDocument.Parse("""{"total": 3}""");

        Assert.That(ToolResults.Text(new CallToolResult { StructuredContent = json.RootElement.Clone() }), Is.EqualTo("""{"total": 3}"""));
    }

    [Test]
    public void Text_NoContent_SaysSo()
    {
        Assert.That(ToolResults.Text(new CallToolResult()), Is.EqualTo("(The tool answered with no content.)"));
    }
}
