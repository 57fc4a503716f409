using Orchflow.Models;

namespace Orchflow.Tests.Models;

/// <summary>Tool names as function calling allows them, and back, the same in every turn of a task's loop.</summary>
[TestFixture]
public sealed class ModelToolNamesTests
{
    [Test]
    public void ForModel_ServerTool_SlashBecomesTwoUnderscoresAndMapsBack()
    {
        var names = new ModelToolNames(["mcs_abc/search", "fetch_url"]);

        Assert.Multiple(() =>
        {
            Assert.That(names.ForModel("mcs_abc/search"), Is.EqualTo("mcs_abc__search"));
            Assert.That(names.ToTool("mcs_abc__search"), Is.EqualTo("mcs_abc/search"));
            Assert.That(names.ForModel("fetch_url"), Is.EqualTo("fetch_url"));
        });
    }

    [Test]
    public void ForModel_ToolOfferedAndCalledBefore_KeepsItsOneName()
    {
        // A later turn names the offered tools and then the tools of the calls so far, which repeat them.
        var names = new ModelToolNames(["mcs_abc/lookup", "mcs_abc/lookup", "mcs_abc/lookup"]);

        Assert.Multiple(() =>
        {
            Assert.That(names.ForModel("mcs_abc/lookup"), Is.EqualTo("mcs_abc__lookup"));
            Assert.That(names.ToTool("mcs_abc__lookup"), Is.EqualTo("mcs_abc/lookup"));
        });
    }

    [Test]
    public void ForModel_TwoToolsWithTheSameSafeName_TheSecondIsNumbered()
    {
        var names = new ModelToolNames(["mcs_abc/a.b", "mcs_abc/a_b"]);

        Assert.Multiple(() =>
        {
            Assert.That(names.ForModel("mcs_abc/a.b"), Is.EqualTo("mcs_abc__a_b"));
            Assert.That(names.ForModel("mcs_abc/a_b"), Is.EqualTo("mcs_abc__a_b_2"));
            Assert.That(names.ToTool("mcs_abc__a_b_2"), Is.EqualTo("mcs_abc/a_b"));
        });
    }
}
