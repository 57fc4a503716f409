using Orchflow.Tools;

namespace Orchflow.Tests.Tools;

[TestFixture]
public sealed class HtmlTextTests
{
    [Test]
    public void Reduce_ScriptsStylesCommentsAndUnrenderedParts_Dropped()
    {
        var (_, text) = HtmlText.Reduce(
            "<p>Keep</p><script type=\"x\">if (a < b) alert('no')</script><style>p{}</style><!-- <p>no</p> --><svg><text>no</text></svg>" +
            "<template><p>no</p></template><p>Also keep</p>");

        Assert.That(text, Is.EqualTo("Keep\n\nAlso keep"));
    }

    [Test]
    public void Reduce_EntitiesNamedAndNumeric_Decoded()
    {
        var (_, text) = HtmlText.Reduce("<p>&lt;tag&gt; &amp; &quot;q&quot; &#233;t&#xE9; &copy;&nbsp;2026</p>");

        Assert.That(text, Is.EqualTo("<tag> & \"q\" été © 2026"));
    }

    [Test]
    public void Reduce_Title_ApartAndCollapsed()
    {
        var (title, text) = HtmlText.Reduce("<html><head><title>\n  The   Page &amp; More </title></head><body>Body</body></html>");

        Assert.Multiple(() =>
        {
            Assert.That(title, Is.EqualTo("The Page & More"));
            Assert.That(text, Is.EqualTo("Body"));
        });
    }

    [Test]
    public void Reduce_ListsTablesAndLineBreaks_OnLinesOfTheirOwn()
    {
        var (_, text) = HtmlText.Reduce(
            "<ul><li>One</li><li>Two</li></ul><table><tr><th>Plan</th><th>Price</th></tr><tr><td>Pro</td><td>$29</td></tr></table>a<br>b");

        Assert.That(text, Is.EqualTo("- One\n- Two\n\nPlan | Price\nPro | $29\n\na\nb"));
    }

    [Test]
    public void Reduce_WhitespaceRuns_CollapsedButKeptInPre()
    {
        var (_, text) = HtmlText.Reduce("<p>a \n\t  b</p><pre>x  =  1\n  y</pre>");

        Assert.That(text, Is.EqualTo("a b\n\nx  =  1\n  y"));
    }

    [Test]
    public void Reduce_AttributesWithAngleBracketsAndBareLessThan_TextKept()
    {
        var (_, text) = HtmlText.Reduce("<a href=\"/x?a>b\" title='c>d'>link</a> 3 < 4 and <5");

        Assert.That(text, Is.EqualTo("link 3 < 4 and <5"));
    }

    [Test]
    public void Reduce_UnclosedScriptAndTag_NoTextFromThemNoException()
    {
        Assert.Multiple(() =>
        {
            Assert.That(HtmlText.Reduce("<p>before</p><script>never closed").Text, Is.EqualTo("before"));
            Assert.That(HtmlText.Reduce("<p>before<div class=\"unterminated").Text, Is.EqualTo("before"));
            Assert.That(HtmlText.Reduce("").Text, Is.Empty);
        });
    }
}
