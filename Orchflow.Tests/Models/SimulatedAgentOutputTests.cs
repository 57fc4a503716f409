using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Models;

namespace Orchflow.Tests.Models;

/// <summary>One agent task on the simulated model: research says what to look up, the analyst quotes the person, the writer fits its deliverable.</summary>
[TestFixture]
public sealed class SimulatedAgentOutputTests
{
    const string Answer = "Brand voice: direct, useful, technical.\nTarget audience: solo freelancers and small agencies.";

    static readonly TaskInput Human = new("T1", "Provide brand voice and target audience", TaskKind.Human, Answer);

    [Test]
    public async Task RunTaskAsync_ResearchBranch_LooksForItsOwnRankOnlyAndSaysItWasNotLookedUp()
    {
        var reply = await Run("research", "Research competing channel 2 of 5");

        var steps = reply.Split('\n').Where(l => l.Length > 3 && char.IsDigit(l[0]) && l.Contains(". ", StringComparison.Ordinal)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(reply, Does.Contain("Not looked up"));
            Assert.That(steps.Count(s => s.Contains("ranked 2 of 5", StringComparison.Ordinal)), Is.EqualTo(1), reply);
            Assert.That(reply, Does.Not.Contain("candidate"), "no invented list of five candidates");
            Assert.That(steps, Has.Count.GreaterThanOrEqualTo(4), "says what to record about it");
        });
    }

    [TestCase("Define our positioning")]
    [TestCase("Decide the branding direction")]
    [TestCase("Design the system")]
    public async Task RunTaskAsync_AnalystWithTheHumansAnswers_QuotesEachFactInItsComparisonAndDecision(string name)
    {
        var reply = await Run("analyst", name, Human);

        var decision = reply.Split('\n').SkipWhile(l => l != "### Decision").Skip(1).First();
        var header = reply.Split('\n').SkipWhile(l => l != "### Comparison").Skip(1).First();
        Assert.Multiple(() =>
        {
            foreach (var fact in new[] { "\"direct, useful, technical\"", "\"solo freelancers and small agencies\"" })
            {
                Assert.That(header, Does.Contain(fact), reply);
                Assert.That(decision, Does.Contain(fact), reply);
            }
        });
    }

    [Test]
    public async Task RunTaskAsync_AnswerInSentencesAsTheDocsGiveIt_QuotesTheAudienceAsTheAudienceAndTheVoiceAsTheVoice()
    {
        var docsAnswer = Human with
        {
            Name = "Provide brand voice, target audience and content constraints",
            Output = "Brand voice should be practical and founder-friendly. Target audience is solo freelancers and small agencies.",
        };

        var reply = await Run("analyst", "Define our positioning", docsAnswer);

        var niche = reply.Split('\n').Single(l => l.StartsWith("| 1. ", StringComparison.Ordinal));
        var header = reply.Split('\n').SkipWhile(l => l != "### Comparison").Skip(1).First();
        Assert.Multiple(() =>
        {
            Assert.That(niche, Does.Contain("\"solo freelancers and small agencies\"").And.Not.Contain("founder-friendly"), reply);
            Assert.That(header, Does.Contain("Target audience \"solo freelancers and small agencies\"").And.Contain("Brand voice \"practical and founder-friendly\""));
        });
    }

    [Test]
    public async Task RunTaskAsync_WriterForDifferentDeliverables_WritesDifferentDrafts()
    {
        var plan = Draft(await Run("writer", "Design a 30-day content plan", Human));
        var checklist = Draft(await Run("writer", "Produce a launch checklist", Human));
        var roadmap = Draft(await Run("writer", "Produce an implementation roadmap", Human));

        Assert.Multiple(() =>
        {
            Assert.That(plan.Count(l => l.StartsWith("| ", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(31), "a header and 30 days");
            Assert.That(checklist.Count(l => l.StartsWith("- [ ] ", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(5));
            Assert.That(roadmap.Count(l => l.StartsWith("**Phase ", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(3));
            Assert.That(plan.Intersect(checklist).Concat(checklist.Intersect(roadmap)).Where(l => l.Length > 0), Is.Empty);
        });
    }

    [Test]
    public async Task RunTaskAsync_EditOfADraft_KeepsTheDraftsLinesAndSaysWhatChanged()
    {
        var draft = await Run("writer", "Write a blog post about AI tools for freelancers", Human);

        var edited = await Run("writer", "Edit the blog post about AI tools for freelancers", Human,
            new TaskInput("T3", "Write a blog post about AI tools for freelancers", TaskKind.Agent, draft));

        Assert.Multiple(() =>
        {
            Assert.That(Draft(edited), Is.SupersetOf(Draft(draft).Where(l => l.Length > 0)));
            Assert.That(Draft(edited).Count, Is.GreaterThan(Draft(draft).Count));
            Assert.That(edited, Does.Contain("### Edits made"));
        });
    }

    static async Task<string> Run(string agent, string name, params TaskInput[] inputs)
    {
        var model = new SimulatedRunModel(Options.Create(new SimulatedModelOptions { LatencyMs = 0 }), TimeProvider.System);
        var spec = new AgentSpec(agent);
        var task = new PlannedTask("T9", name, name + ".", TaskKind.Agent, agent, inputs.Select(i => i.TaskId).ToList());
        var reply = await model.RunTaskAsync(
            new AgentTaskRequest(SimulatedRuns.YouTubeGoal, task, spec, AgentCatalog.SystemPromptFor(spec), inputs), CancellationToken.None);
        return reply.Value;
    }

    static List<string> Draft(string output) =>
        output.Split('\n').Select(l => l.TrimEnd()).SkipWhile(l => l != "### Draft").Skip(1).TakeWhile(l => !l.StartsWith("### ", StringComparison.Ordinal)).ToList();
}
