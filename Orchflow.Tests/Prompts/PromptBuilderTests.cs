using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Prompts;

namespace Orchflow.Tests.Prompts;

public sealed class PromptBuilderTests
{
    static readonly RunDefinition Definition = new(
        "Research competitors, then draft our launch strategy.",
        AgentCatalog.Resolve(null),
        ["company details", "brand voice"],
        ["publish"],
        false,
        null,
        null);

    [TestCase("planner.md")]
    [TestCase("planner-repair.md")]
    [TestCase("agent-task.md")]
    [TestCase("agent-revision.md")]
    [TestCase("synthesis.md")]
    [TestCase("Agents.research.md")]
    [TestCase("Agents.analyst.md")]
    [TestCase("Agents.writer.md")]
    [TestCase("Agents.custom.md")]
    [TestCase("Agents.shared-rules.md")]
    public void Load_EveryTemplate_IsEmbeddedAndNotEmpty(string name) =>
        Assert.That(PromptTemplates.Load(name), Has.Length.GreaterThan(50));

    [Test]
    public void Render_MissingValue_ThrowsNamingThePlaceholder()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            PromptTemplates.Render("planner-repair.md", new Dictionary<string, string> { ["errors"] = "x" }));
        Assert.That(e!.Message, Does.Contain("previous_answer"));
    }

    [Test]
    public void Plan_FirstAttempt_SystemPromptCarriesGoalAgentsTopicsAndGates()
    {
        var messages = PromptBuilder.Plan(new PlanningRequest(Definition, Definition.Agents));

        Assert.That(messages.Select(m => m.Role), Is.EqualTo(new[] { PromptRole.System, PromptRole.User }));
        var system = messages[0].Content;
        Assert.Multiple(() =>
        {
            Assert.That(system, Does.Contain(Definition.Goal));
            Assert.That(system, Does.Contain("- research: " + AgentCatalog.Research.Description));
            Assert.That(system, Does.Contain("- writer: "));
            Assert.That(system, Does.Contain("- company details").And.Contain("- brand voice"));
            Assert.That(system, Does.Contain("- publish"));
            Assert.That(system, Does.Not.Contain("{{"));
        });
    }

    [Test]
    public void Plan_Repair_EchoesThePreviousAnswerAndListsEveryError()
    {
        var repair = new PlanRepair("{\"tasks\": []}", ["The plan has 0 tasks; it must have 1 to 20.", "No human task asks for \"brand voice\"."]);

        var messages = PromptBuilder.Plan(new PlanningRequest(Definition, Definition.Agents, repair));

        Assert.That(messages.Select(m => m.Role), Is.EqualTo(new[] { PromptRole.System, PromptRole.User, PromptRole.Assistant, PromptRole.User }));
        Assert.Multiple(() =>
        {
            Assert.That(messages[2].Content, Is.EqualTo(repair.PreviousAnswer));
            Assert.That(messages[3].Content, Does.Contain("- The plan has 0 tasks").And.Contain("- No human task asks for \"brand voice\"."));
            Assert.That(messages[3].Content, Does.Not.Contain("{{"));
        });
    }

    [Test]
    public void Plan_NoTopicsNoGates_SaysNoneInsteadOfLeavingSectionsEmpty()
    {
        var plain = Definition with { AskMeAbout = [], HumanGates = [] };

        var system = PromptBuilder.Plan(new PlanningRequest(plain, plain.Agents))[0].Content;

        Assert.That(system, Does.Contain("## Context only the person can give\n(none)"));
        Assert.That(system, Does.Contain("## Steps reserved for the person\n(none)"));
    }

    [Test]
    public void Task_WithHumanAnswerDependencyAndRevision_PutsEachInItsSection()
    {
        var task = new PlannedTask("T3", "Draft the launch strategy", "A one-page strategy.", TaskKind.Agent, "writer", ["T1", "T2"]);
        var request = new AgentTaskRequest(
            Definition.Goal, task, new AgentSpec("writer"), AgentCatalog.SystemPromptFor(new AgentSpec("writer")),
            [new TaskInput("T1", "Provide company details", TaskKind.Human, "We sell a workflow API."),
             new TaskInput("T2", "Research competitors", TaskKind.Agent, "Competitor A charges $49.")],
            new Revision("First draft.", "Shorter, and name the price.", 1));

        var messages = PromptBuilder.Task(request);

        Assert.That(messages[0], Is.EqualTo(new PromptMessage(PromptRole.System, AgentCatalog.Writer.SystemPrompt)));
        var user = messages[1].Content;
        Assert.Multiple(() =>
        {
            Assert.That(user, Does.Contain("## Your task: T3 — Draft the launch strategy\nA one-page strategy."));
            Assert.That(user.IndexOf("We sell a workflow API.", StringComparison.Ordinal),
                Is.GreaterThan(user.IndexOf("## What the person told us", StringComparison.Ordinal)));
            Assert.That(user.IndexOf("Competitor A charges $49.", StringComparison.Ordinal),
                Is.GreaterThan(user.IndexOf("## Outputs of the tasks you build on", StringComparison.Ordinal)));
            Assert.That(user, Does.Contain("## Your previous draft (round 1)\nFirst draft."));
            Assert.That(user, Does.Contain("Shorter, and name the price."));
            Assert.That(user, Does.Not.Contain("{{"));
        });
    }

    [Test]
    public void Synthesis_Results_ListsHumanAnswersAndAgentOutputsSeparately()
    {
        var request = new SynthesisRequest(Definition.Goal,
        [
            new TaskInput("T1", "Provide company details", TaskKind.Human, "We sell a workflow API."),
            new TaskInput("T2", "Research competitors", TaskKind.Agent, "Competitor A charges $49."),
        ]);

        var system = PromptBuilder.Synthesis(request)[0].Content;

        Assert.That(system, Does.Contain("## What the person told us\n### T1 — Provide company details\nWe sell a workflow API."));
        Assert.That(system, Does.Contain("## The tasks' outputs, in plan order\n### T2 — Research competitors\nCompetitor A charges $49."));
    }

    [Test]
    public void SystemPromptFor_BuiltInWithInstructions_KeepsTemplateAndPutsInstructionsLast()
    {
        var prompt = AgentCatalog.SystemPromptFor(new AgentSpec("research", "Only use sources from 2026."));

        Assert.That(prompt, Does.StartWith(AgentCatalog.Research.SystemPrompt));
        Assert.That(prompt, Does.EndWith("Only use sources from 2026."));
    }

    [Test]
    public void SystemPromptFor_CustomAgent_UsesItsInstructionsAndTheSharedRules()
    {
        var prompt = AgentCatalog.SystemPromptFor(new AgentSpec("seo", "Optimise titles for search."));

        Assert.Multiple(() =>
        {
            Assert.That(prompt, Does.StartWith("You are the seo agent"));
            Assert.That(prompt, Does.Contain("Optimise titles for search."));
            Assert.That(prompt, Does.Contain(PromptTemplates.Load("Agents.shared-rules.md")));
        });
    }

    [Test]
    public void SystemPromptFor_CustomAgentWithoutInstructions_Throws() =>
        Assert.Throws<ArgumentException>(() => AgentCatalog.SystemPromptFor(new AgentSpec("seo")));
}
