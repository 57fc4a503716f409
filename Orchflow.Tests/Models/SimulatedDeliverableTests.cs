using System.Text.RegularExpressions;
using Orchflow.Domain;
using Orchflow.Models;

namespace Orchflow.Tests.Models;

/// <summary>
/// The public docs' examples played end to end on the simulated model: the final output holds every deliverable the
/// goal names, shaped as that deliverable (days, tick boxes, phases, paragraphs), with no line written twice.
/// </summary>
[TestFixture]
public sealed partial class SimulatedDeliverableTests
{
    /// <summary>The deliverables each example's goal names, as words of the final output's section headings.</summary>
    static readonly Dictionary<string, string[]> Named = new()
    {
        ["QuickStart"] = ["faceless YouTube channel"],
        ["Runs"] = ["pricing", "positioning", "launch strategy"],
        ["Providers"] = ["launch strategy"],
        ["Python"] = ["pricing", "launch strategy"],
        ["YouTube"] = ["content patterns", "positioning", "branding direction", "30-day content plan", "launch checklist"],
        ["Content"] = ["blog post"],
        ["Architecture"] = ["the system", "security/billing risks", "implementation roadmap"],
    };

    static IEnumerable<TestCaseData> Examples() =>
        SimulatedRuns.DocsExamples.Select(e => new TestCaseData(e).SetArgDisplayNames(e.Name));

    [TestCaseSource(nameof(Examples))]
    public async Task SynthesizeAsync_DocsExample_HasASectionForEachDeliverableTheGoalNames(SimulatedRuns.Example example)
    {
        var (_, _, final) = await SimulatedRuns.PlayAsync(example);

        var headings = Lines(final).Where(l => l.StartsWith("## ", StringComparison.Ordinal)).ToList();
        Assert.Multiple(() =>
        {
            foreach (var deliverable in Named[example.Name])
            {
                Assert.That(headings, Has.Some.Contains(deliverable).IgnoreCase, final);
            }

            Assert.That(final, Does.Contain(SimulatedRunModel.Notice));
        });
    }

    [TestCaseSource(nameof(Examples))]
    public async Task SynthesizeAsync_DocsExample_WritesNoLineTwice(SimulatedRuns.Example example)
    {
        var (_, _, final) = await SimulatedRuns.PlayAsync(example);

        // Blank lines and table rules ("|---|---|") are layout, not text.
        var repeated = Lines(final).Where(l => l.Trim().Length > 0 && !TableRule().IsMatch(l))
            .GroupBy(l => l).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.That(repeated, Is.Empty, final);
    }

    [TestCaseSource(nameof(Examples))]
    public async Task SynthesizeAsync_DocsExample_QuotesEveryHumanAnswerWholeAndEveryAgentTaskHasItsPlace(SimulatedRuns.Example example)
    {
        var (plan, outputs, final) = await SimulatedRuns.PlayAsync(example);

        Assert.Multiple(() =>
        {
            foreach (var human in outputs.Where(o => o.Kind == TaskKind.Human))
            {
                Assert.That(final, Does.Contain(human.Output), human.TaskId);
            }

            // A task is in the final output under its name, or (research, a draft that was edited later) by its id.
            foreach (var task in plan.Tasks.Where(t => t.Kind == TaskKind.Agent))
            {
                Assert.That(final.Contains("## " + task.Name, StringComparison.Ordinal) || final.Contains($"| {task.TaskId}: ", StringComparison.Ordinal) ||
                            plan.Tasks.Any(t => t.Name.StartsWith("Edit", StringComparison.Ordinal) && t.DependsOn.Contains(task.TaskId)),
                    Is.True, $"{task.TaskId} {task.Name}\n{final}");
            }
        });
    }

    [Test]
    public async Task SynthesizeAsync_YouTubeExample_TheContentPlanIsATableWithARowForEachOfTheThirtyDays()
    {
        var (_, _, final) = await SimulatedRuns.PlayAsync(SimulatedRuns.Find("YouTube"));

        var days = Section(final, "30-day content plan").Select(l => DayRow().Match(l)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups["day"].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.That(days, Is.EqualTo(Enumerable.Range(1, 30)), final);
    }

    [Test]
    public async Task SynthesizeAsync_YouTubeExample_TheContentPlanPublishesAsOftenAsThePersonAsked()
    {
        // The harness's person asks for "two videos a week": eight or nine pieces in 30 days, not one a day.
        var (_, _, final) = await SimulatedRuns.PlayAsync(SimulatedRuns.Find("YouTube"));

        var published = Section(final, "30-day content plan").Count(l => l.Contains("| Publish #", StringComparison.Ordinal));
        Assert.That(published, Is.InRange(8, 10), final);
    }

    [Test]
    public async Task SynthesizeAsync_YouTubeExample_TheLaunchChecklistIsTickBoxesInGroups()
    {
        var (_, _, final) = await SimulatedRuns.PlayAsync(SimulatedRuns.Find("YouTube"));

        var section = Section(final, "launch checklist");
        Assert.Multiple(() =>
        {
            Assert.That(section.Count(l => l.StartsWith("- [ ] ", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(8), final);
            Assert.That(section.Count(l => l.EndsWith(':') && !l.StartsWith('-')), Is.GreaterThanOrEqualTo(2), "grouped");
        });
    }

    [Test]
    public async Task SynthesizeAsync_ArchitectureExample_TheRoadmapHasPhasesEachWithAnExit()
    {
        var (_, _, final) = await SimulatedRuns.PlayAsync(SimulatedRuns.Find("Architecture"));

        var section = Section(final, "implementation roadmap");
        Assert.Multiple(() =>
        {
            Assert.That(section.Count(l => l.StartsWith("**Phase ", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(3), final);
            Assert.That(section.Count(l => l.StartsWith("- Exit: ", StringComparison.Ordinal)),
                Is.EqualTo(section.Count(l => l.StartsWith("**Phase ", StringComparison.Ordinal))));
        });
    }

    [Test]
    public async Task SynthesizeAsync_ContentExample_TheBlogPostIsParagraphsAndAppearsOnceAsEdited()
    {
        var (_, _, final) = await SimulatedRuns.PlayAsync(SimulatedRuns.Find("Content"));

        var headings = Lines(final).Where(l => l.StartsWith("## ", StringComparison.Ordinal) && l.Contains("blog post", StringComparison.Ordinal)).ToList();
        var paragraphs = Section(final, "blog post").Count(l => l.Length > 80 && !l.StartsWith('|') && !l.StartsWith('-'));
        Assert.Multiple(() =>
        {
            Assert.That(headings, Has.Count.EqualTo(1).And.All.StartsWith("## Edit"), final);
            Assert.That(paragraphs, Is.GreaterThanOrEqualTo(4), final);
        });
    }

    [Test]
    public async Task SynthesizeAsync_DocsExamples_WriteEachDeliverableInItsOwnShape()
    {
        // The complaint this answers: the same three lines for a content plan, a roadmap and a post.
        var plan = Section((await SimulatedRuns.PlayAsync(SimulatedRuns.Find("YouTube"))).Final, "30-day content plan");
        var roadmap = Section((await SimulatedRuns.PlayAsync(SimulatedRuns.Find("Architecture"))).Final, "implementation roadmap");
        var post = Section((await SimulatedRuns.PlayAsync(SimulatedRuns.Find("Content"))).Final, "blog post");

        Assert.Multiple(() =>
        {
            Assert.That(plan.Intersect(roadmap).Where(l => l.Length > 0), Is.Empty);
            Assert.That(plan.Intersect(post).Where(l => l.Length > 0), Is.Empty);
            Assert.That(roadmap.Intersect(post).Where(l => l.Length > 0), Is.Empty);
        });
    }

    static List<string> Lines(string text) => text.Split('\n').Select(l => l.TrimEnd()).ToList();

    /// <summary>The lines of the final output's "## …" section whose heading names <paramref name="deliverable"/>.</summary>
    static List<string> Section(string final, string deliverable)
    {
        var lines = Lines(final);
        var start = lines.FindIndex(l => l.StartsWith("## ", StringComparison.Ordinal) && l.Contains(deliverable, StringComparison.OrdinalIgnoreCase));
        return start < 0 ? [] : lines.Skip(start + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal)).ToList();
    }

    [GeneratedRegex(@"^\|[\s:|-]+\|$")]
    private static partial Regex TableRule();

    [GeneratedRegex(@"^\|\s*(?<day>\d+)\s*\|")]
    private static partial Regex DayRow();
}
