using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Models;
using Orchflow.Planning;

namespace Orchflow.Tests.Models;

/// <summary>The built-in offline model: what its outputs are made of and how they are shaped (not their wording).</summary>
[TestFixture]
public sealed class SimulatedRunModelTests
{
    const string Goal = "Research 5 competitors, extract pricing, compare positioning, then propose our launch strategy.";
    const string Answer = "Company: a workflow API for AI apps.\nBrand voice: direct, useful, technical.";

    static readonly TaskInput HumanAnswer = new("T1", "Provide company details", TaskKind.Human, Answer);

    [Test]
    public async Task RunTaskAsync_WriterWithAHumanAnswer_QuotesTheAnswerVerbatimAndSaysItIsSimulated()
    {
        var upstream = new TaskInput("T4", "Compare positioning", TaskKind.Agent, "## Compare positioning\nOption 1 wins.");

        var reply = await Model().RunTaskAsync(Request("writer", "Propose our launch strategy", HumanAnswer, upstream), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(reply.Value, Does.Contain(Answer));
            Assert.That(reply.Value, Does.Contain(SimulatedRunModel.Notice));
            Assert.That(reply.Value, Does.Contain("T4"), "says what it built on");
            Assert.That(reply.Usage.InputTokens, Is.GreaterThan(0));
            Assert.That(reply.Usage.OutputTokens, Is.GreaterThan(0));
        });
    }

    [Test]
    public async Task RunTaskAsync_ResearchTask_HasAFindingsSectionWithAList()
    {
        var reply = await Model().RunTaskAsync(Request("research", "Research 5 competitors"), CancellationToken.None);

        var lines = reply.Value.Split('\n').Select(l => l.TrimEnd()).ToList();
        var findings = lines.FindIndex(l => Regex.IsMatch(l, @"^#{1,6}\s+Findings\b", RegexOptions.IgnoreCase));
        Assert.That(findings, Is.GreaterThanOrEqualTo(0), reply.Value);
        var items = lines.Skip(findings + 1).TakeWhile(l => !l.StartsWith('#')).Count(l => Regex.IsMatch(l, @"^(\d+\.|[-*])\s+\S"));
        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Does.StartWith("#"), "starts with a heading");
            Assert.That(items, Is.GreaterThanOrEqualTo(1), reply.Value);
            Assert.That(reply.Value, Does.Contain(SimulatedRunModel.Notice));
        });
    }

    [Test]
    public async Task RunTaskAsync_HumanAnswerLongerThanAGistWithoutSpaces_StillQuotesIt()
    {
        var token = "https://example.com/" + new string('a', 200);
        var input = HumanAnswer with { Output = token };

        var reply = await Model().RunTaskAsync(Request("analyst", "Compare positioning", input), CancellationToken.None);

        Assert.That(reply.Value, Does.Contain(token));
    }

    [Test]
    public async Task SynthesizeAsync_TwoHumanAnswers_ContainsBothAndTheLastDeliverable()
    {
        var second = new TaskInput("T3", "Approve the budget", TaskKind.Human, "Budget: 2,000 EUR a month.");
        var deliverable = new TaskInput("T5", "Propose our launch strategy", TaskKind.Agent, "## Launch strategy\n1. Ship on a Tuesday.");

        var reply = await Model().SynthesizeAsync(
            new SynthesisRequest(Goal, [HumanAnswer, new TaskInput("T2", "Research 5 competitors", TaskKind.Agent, "Five found."), second, deliverable]),
            CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(reply.Value, Does.Contain(Answer));
            Assert.That(reply.Value, Does.Contain("Budget: 2,000 EUR a month."));
            Assert.That(reply.Value, Does.Contain("1. Ship on a Tuesday."));
            Assert.That(reply.Value, Does.Contain(SimulatedRunModel.Notice));
            Assert.That(reply.Usage.InputTokens, Is.GreaterThan(0));
            Assert.That(reply.Usage.OutputTokens, Is.GreaterThan(0));
        });
    }

    [Test]
    public async Task PlanAsync_Goal_AnswersTheDeterministicPlanAsPlanJsonWithUsage()
    {
        var agents = AgentCatalog.Resolve(null);
        var definition = new RunDefinition(Goal, agents, ["company details"], [], false, null, null);

        var reply = await Model().PlanAsync(new PlanningRequest(definition, agents), CancellationToken.None);

        var (tasks, errors) = PlanJson.Parse(reply.Value);
        Assert.Multiple(() =>
        {
            Assert.That(Model().Name, Is.EqualTo("simulated"));
            Assert.That(errors, Is.Empty);
            Assert.That(JsonSerializer.Serialize(tasks), Is.EqualTo(JsonSerializer.Serialize(DeterministicPlanner.Plan(definition, agents).Tasks)));
            Assert.That(reply.Usage.InputTokens, Is.GreaterThan(0));
            Assert.That(reply.Usage.OutputTokens, Is.GreaterThan(0));
        });
    }

    [Test]
    public async Task RunTaskAsync_LatencyConfigured_CompletesOnlyAfterThatLatencyElapses()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var model = new SimulatedRunModel(Options.Create(new SimulatedModelOptions { LatencyMs = 200 }), clock);

        var reply = model.RunTaskAsync(Request("writer", "Draft a launch plan"), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(clock.DueTimes, Is.EqualTo(new[] { TimeSpan.FromMilliseconds(200) }));
            Assert.That(reply.IsCompleted, Is.False);
        });
        clock.Advance(TimeSpan.FromMilliseconds(199));
        Assert.That(reply.IsCompleted, Is.False, "199 ms in");

        clock.Advance(TimeSpan.FromMilliseconds(1));
        // The delay completes on the clock's call; the bound only keeps a regression from hanging the suite.
        var output = await reply.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(output.Value, Does.Contain(SimulatedRunModel.Notice));
    }

    [Test]
    public async Task RunTaskAsync_StreamingWhileTheClockRunsAhead_KeepsToItsLatencyInsteadOfPausingAgainForEachPiece()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var model = new SimulatedRunModel(Options.Create(new SimulatedModelOptions { LatencyMs = 600 }), clock);
        var written = new StringBuilder();
        var request = Request("writer", "Draft a launch plan") with { Output = new Collecting(written) };

        var reply = model.RunTaskAsync(request, CancellationToken.None);
        var firstPause = clock.DueTimes.Single();
        // A slow thread pool wakes the writer late: every piece due by then is written at once, with no pause of its own.
        clock.Advance(TimeSpan.FromMilliseconds(600));

        var output = await reply.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Multiple(() =>
        {
            Assert.That(firstPause, Is.GreaterThan(TimeSpan.Zero).And.LessThan(TimeSpan.FromMilliseconds(600)), "written in pieces over the latency");
            Assert.That(clock.DueTimes.Count(), Is.EqualTo(1), "no piece waited once its time had passed");
            Assert.That(written.ToString(), Is.EqualTo(output.Value), "every piece, in order");
        });
    }

    sealed class Collecting(StringBuilder text) : ITextSink
    {
        public void Append(string delta) => text.Append(delta);

        public void Restart() => text.Clear();
    }

    [Test]
    public void RunTaskAsync_LatencyZero_CompletesSynchronously()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var model = new SimulatedRunModel(Options.Create(new SimulatedModelOptions { LatencyMs = 0 }), clock);

        var reply = model.RunTaskAsync(Request("writer", "Draft a launch plan"), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(reply.IsCompletedSuccessfully, Is.True);
            Assert.That(clock.DueTimes, Is.Empty);
        });
    }

    const string Feedback = "Add a pricing tier for agencies.\nMake the tone warmer; cut the jargon.";

    static readonly string[] FeedbackPoints = ["Add a pricing tier for agencies", "Make the tone warmer", "Cut the jargon"];

    [TestCase("research", "Findings")]
    [TestCase("analyst", "Comparison")]
    [TestCase("writer", "Draft")]
    public async Task RunTaskAsync_DraftSentBack_QuotesTheFeedbackAndAddsEachPointToTheMainSection(string agent, string section)
    {
        var first = await Model().RunTaskAsync(Request(agent, "Propose our launch strategy", HumanAnswer), CancellationToken.None);
        var request = Request(agent, "Propose our launch strategy", HumanAnswer) with { Revision = new Revision(first.Value, Feedback, 2) };

        var revised = await Model().RunTaskAsync(request, CancellationToken.None);

        var lines = revised.Value.Split('\n').Select(l => l.TrimEnd()).ToList();
        var revisionHeading = lines.FindIndex(l => Regex.IsMatch(l, @"^#{2,4} Revised after feedback \(round 2\)$"));
        var sectionLines = SectionLines(lines, section);
        Assert.Multiple(() =>
        {
            Assert.That(revisionHeading, Is.GreaterThan(0).And.LessThan(lines.FindIndex(l => l == $"### {section}")), revised.Value);
            Assert.That(lines, Does.Contain("> Add a pricing tier for agencies.").And.Contain("> Make the tone warmer; cut the jargon."),
                "the feedback is quoted line by line");
            foreach (var point in FeedbackPoints)
            {
                Assert.That(sectionLines.Count(l => l.Contains(point, StringComparison.Ordinal)), Is.EqualTo(1), $"{point} in {section}");
                Assert.That(SectionLines(lines, "Revised after feedback (round 2)").Count(l => l.StartsWith("- ", StringComparison.Ordinal) &&
                    l.Contains(point, StringComparison.Ordinal)), Is.EqualTo(1), $"{point} listed as a change");
            }

            Assert.That(sectionLines.Count, Is.EqualTo(SectionLines(first.Value.Split('\n').ToList(), section).Count + FeedbackPoints.Length));
            Assert.That(revised.Value, Does.Contain(SimulatedRunModel.Notice));
            Assert.That(revised.Usage.InputTokens, Is.GreaterThan(first.Usage.InputTokens), "it read the previous draft and the feedback");
        });
    }

    [Test]
    public async Task RunTaskAsync_SameRevisionTwice_WritesTheSameDraft()
    {
        var request = Request("writer", "Draft a launch plan") with { Revision = new Revision("## Draft a launch plan\n1. Ship.", Feedback, 1) };

        var first = await Model().RunTaskAsync(request, CancellationToken.None);
        var second = await Model().RunTaskAsync(request, CancellationToken.None);

        Assert.That(second.Value, Is.EqualTo(first.Value));
    }

    [Test]
    public async Task RunTaskAsync_FirstDraft_HasNoRevisionSection()
    {
        var reply = await Model().RunTaskAsync(Request("writer", "Draft a launch plan", HumanAnswer), CancellationToken.None);

        Assert.That(reply.Value, Does.Not.Contain("Revised after feedback"));
    }

    [TestCase(2_000)]
    [TestCase(100_000)]
    public async Task RunTaskAsync_OutputCharsSet_PadsTheNaturalOutputWithMarkedFillerToAtLeastThatSize(int chars)
    {
        var natural = (await Model().RunTaskAsync(Request("research", "Research 5 competitors", HumanAnswer), CancellationToken.None)).Value;

        var reply = await Model(outputChars: chars).RunTaskAsync(Request("research", "Research 5 competitors", HumanAnswer), CancellationToken.None);
        var again = await Model(outputChars: chars).RunTaskAsync(Request("research", "Research 5 competitors", HumanAnswer), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(natural, Has.Length.LessThan(2_000), "the natural size is below the sizes tested");
            Assert.That(reply.Value, Has.Length.GreaterThanOrEqualTo(chars).And.Length.LessThan(chars + 300));
            Assert.That(reply.Value, Does.StartWith(natural + "\n\n" + SimulatedRunModel.FillerHeading));
            Assert.That(again.Value, Is.EqualTo(reply.Value), "deterministic");
            Assert.That(reply.Usage.OutputTokens, Is.GreaterThan(chars / 20), "the filler counts as output");
        });
    }

    [Test]
    public async Task RunTaskAsync_OutputCharsBelowTheNaturalSize_LeavesTheOutputAsItIs()
    {
        var natural = await Model().RunTaskAsync(Request("writer", "Draft a launch plan", HumanAnswer), CancellationToken.None);

        var reply = await Model(outputChars: 10).RunTaskAsync(Request("writer", "Draft a launch plan", HumanAnswer), CancellationToken.None);

        Assert.That(reply.Value, Is.EqualTo(natural.Value));
    }

    [Test]
    public async Task RunTaskAsync_PaddedDependency_BuildsOnItsContentNotOnTheFiller()
    {
        var padded = Model(outputChars: 20_000);
        var upstream = await padded.RunTaskAsync(Request("analyst", "Compare positioning"), CancellationToken.None);

        var reply = await padded.RunTaskAsync(
            Request("writer", "Propose our launch strategy", new TaskInput("T4", "Compare positioning", TaskKind.Agent, upstream.Value)),
            CancellationToken.None);

        var builtOn = reply.Value.Split('\n').Single(l => l.StartsWith("- T4 ", StringComparison.Ordinal));
        Assert.Multiple(() =>
        {
            Assert.That(builtOn, Does.Contain("Prefer option 1"), "the analyst's decision");
            Assert.That(builtOn, Does.Not.Contain("iller"));
        });
    }

    [Test]
    public async Task SynthesizeAsync_PaddedOutputs_StaysNaturalSize()
    {
        var model = Model(outputChars: 50_000);
        var research = await model.RunTaskAsync(Request("research", "Research 5 competitors"), CancellationToken.None);
        var strategy = await model.RunTaskAsync(Request("writer", "Propose our launch strategy"), CancellationToken.None);

        var reply = await model.SynthesizeAsync(new SynthesisRequest(Goal,
        [
            HumanAnswer,
            new TaskInput("T2", "Research 5 competitors", TaskKind.Agent, research.Value),
            new TaskInput("T3", "Propose our launch strategy", TaskKind.Agent, strategy.Value),
        ]), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(reply.Value, Has.Length.LessThan(5_000));
            Assert.That(reply.Value, Does.Not.Contain(SimulatedRunModel.FillerHeading).And.Not.Contain("Filler paragraph"));
            Assert.That(reply.Value, Does.Contain("## Propose our launch strategy"), "the deliverable is there, without its filler");
        });
    }

    /// <summary>The lines under a heading ending with <paramref name="title"/>, up to the next heading.</summary>
    static List<string> SectionLines(List<string> lines, string title)
    {
        var heading = lines.FindIndex(l => l.StartsWith('#') && l.EndsWith(" " + title, StringComparison.Ordinal));
        return heading < 0 ? [] : lines.Skip(heading + 1).TakeWhile(l => !l.StartsWith('#')).Where(l => l.Trim().Length > 0).ToList();
    }

    static SimulatedRunModel Model(int outputChars = 0) =>
        new(Options.Create(new SimulatedModelOptions { LatencyMs = 0, OutputChars = outputChars }), TimeProvider.System);

    static AgentTaskRequest Request(string agent, string taskName, params TaskInput[] inputs)
    {
        var spec = new AgentSpec(agent);
        var task = new PlannedTask("T9", taskName, taskName + ".", TaskKind.Agent, agent, inputs.Select(i => i.TaskId).ToList());
        return new AgentTaskRequest(Goal, task, spec, AgentCatalog.SystemPromptFor(spec), inputs);
    }
}
