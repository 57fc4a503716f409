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
    public async Task PlanAsync_Goal_ReturnsTheDeterministicPlanMarkedSimulatedWithUsage()
    {
        var agents = AgentCatalog.Resolve(null);
        var definition = new RunDefinition(Goal, agents, ["company details"], [], false, null, null);

        var reply = await Model().PlanAsync(new PlanningRequest(definition, agents), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(reply.Value.PlannedBy, Is.EqualTo("simulated"));
            Assert.That(JsonSerializer.Serialize(reply.Value.Tasks), Is.EqualTo(JsonSerializer.Serialize(DeterministicPlanner.Plan(definition, agents).Tasks)));
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

    static SimulatedRunModel Model() => new(Options.Create(new SimulatedModelOptions { LatencyMs = 0 }), TimeProvider.System);

    static AgentTaskRequest Request(string agent, string taskName, params TaskInput[] inputs)
    {
        var spec = new AgentSpec(agent);
        var task = new PlannedTask("T9", taskName, taskName + ".", TaskKind.Agent, agent, inputs.Select(i => i.TaskId).ToList());
        return new AgentTaskRequest(Goal, task, spec, AgentCatalog.SystemPromptFor(spec), inputs);
    }
}
