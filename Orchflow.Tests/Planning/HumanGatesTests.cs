using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Planning;

namespace Orchflow.Tests.Planning;

/// <summary>Routing planned tasks to a person when their name or description matches a human gate.</summary>
[TestFixture]
public sealed class HumanGatesTests
{
    static readonly RunPlan Planned = new(
    [
        new PlannedTask("T1", "Provide company details", "Context only a person can give.", TaskKind.Human, null, [], "What is your company?"),
        new PlannedTask("T2", "Research competitor pricing", "Find what five competitors charge.", TaskKind.Agent, "research", []),
        new PlannedTask("T3", "Draft the announcement", "Write the post we will Publish on launch day.", TaskKind.Agent, "writer", ["T2"]),
        new PlannedTask("T4", "Summarise the findings", "One page for the team.", TaskKind.Agent, "writer", ["T1", "T3"]),
    ], "test");

    [Test]
    public void Apply_GateMatchesName_RoutesTheTaskToAHumanWithAPromptAndNoAgent()
    {
        var gated = HumanGates.Apply(Planned, ["PRICING"]);

        var t2 = gated.Tasks[1];
        Assert.Multiple(() =>
        {
            Assert.That(t2.Kind, Is.EqualTo(TaskKind.Human));
            Assert.That(t2.Agent, Is.Null);
            Assert.That(t2.Prompt, Does.Contain("PRICING").And.Contain("Research competitor pricing"));
            Assert.That((t2.TaskId, t2.Name, t2.Description), Is.EqualTo((Planned.Tasks[1].TaskId, Planned.Tasks[1].Name, Planned.Tasks[1].Description)));
            Assert.That(t2.DependsOn, Is.EqualTo(Planned.Tasks[1].DependsOn));
        });
    }

    [Test]
    public void Apply_GateMatchesDescriptionInAnotherCase_RoutesTheTaskToAHuman()
    {
        var gated = HumanGates.Apply(Planned, ["publish"]);

        Assert.Multiple(() =>
        {
            Assert.That(gated.Tasks[2].Kind, Is.EqualTo(TaskKind.Human));
            Assert.That(gated.Tasks[2].Agent, Is.Null);
            Assert.That(gated.Tasks[2].Prompt, Does.Contain("publish"));
        });
    }

    [Test]
    public void Apply_GatesMatchSomeTasks_LeavesTheOthersUntouched()
    {
        var gated = HumanGates.Apply(Planned, ["pricing", "no such step"]);

        Assert.Multiple(() =>
        {
            Assert.That(gated.Tasks.Select(t => t.Kind), Is.EqualTo(new[] { TaskKind.Human, TaskKind.Human, TaskKind.Agent, TaskKind.Agent }));
            Assert.That(gated.Tasks[2], Is.SameAs(Planned.Tasks[2]));
            Assert.That(gated.Tasks[3], Is.SameAs(Planned.Tasks[3]));
            Assert.That(gated.PlannedBy, Is.EqualTo(Planned.PlannedBy));
        });
    }

    [Test]
    public void Apply_GateMatchesAHumanTask_KeepsItsOwnPrompt()
    {
        var gated = HumanGates.Apply(Planned, ["company"]);

        Assert.That(gated.Tasks[0], Is.SameAs(Planned.Tasks[0]));
    }

    [Test]
    public void Apply_NoGates_ReturnsThePlanAsItIs()
    {
        Assert.That(HumanGates.Apply(Planned, []), Is.SameAs(Planned));
    }

    [Test]
    public void Apply_GateOnAPlannerStep_RoutesOnlyThatStep()
    {
        // The planner's descriptions must not carry the goal, or a gate word in the goal would gate every task.
        var agents = AgentCatalog.Resolve(null);
        var definition = new RunDefinition("Research competitors, draft a pricing page, then publish it.", agents, [], ["publish"], false, null, null);

        var gated = HumanGates.Apply(DeterministicPlanner.Plan(definition, agents), definition.HumanGates);

        Assert.That(gated.Tasks.Where(t => t.Kind == TaskKind.Human).Select(t => t.Name), Is.EqualTo(new[] { "Publish it" }));
    }
}
