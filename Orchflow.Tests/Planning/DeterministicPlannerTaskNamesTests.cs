using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Planning;
using Orchflow.Tests.Models;

namespace Orchflow.Tests.Planning;

/// <summary>What the deterministic planner names each task and which agent it gives it to, for the docs' good first tasks.</summary>
[TestFixture]
public sealed class DeterministicPlannerTaskNamesTests
{
    [Test]
    public void Plan_WriteAndEdit_IsTwoWriterTasksTheEditAfterTheDraft()
    {
        var plan = Plan(SimulatedRuns.ContentGoal);

        var write = plan.Tasks.Single(t => t.Name.StartsWith("Write ", StringComparison.Ordinal));
        var edit = plan.Tasks.Single(t => t.Name.StartsWith("Edit ", StringComparison.Ordinal));
        Assert.Multiple(() =>
        {
            Assert.That(write.Name, Is.EqualTo("Write a blog post about AI tools for freelancers"));
            Assert.That(edit.Name, Is.EqualTo("Edit the blog post about AI tools for freelancers"));
            Assert.That(edit.DependsOn, Does.Contain(write.TaskId));
            Assert.That(new[] { write.Agent, edit.Agent }, Is.All.EqualTo(AgentCatalog.Writer.Name));
        });
    }

    [Test]
    public void Plan_BareResearchClause_IsNamedForWhatItResearches()
    {
        var plan = Plan(SimulatedRuns.ContentGoal);

        var research = plan.Tasks.Single(t => t.Agent == AgentCatalog.Research.Name);
        Assert.Multiple(() =>
        {
            Assert.That(research.Name, Does.Contain("blog post about AI tools for freelancers"));
            Assert.That(research.Description, Is.Not.EqualTo("Research."));
        });
    }

    [Test]
    public void Plan_DesignTheSystem_GoesToTheAnalystAndTheRoadmapToTheWriter()
    {
        var plan = Plan(SimulatedRuns.ArchitectureGoal);

        Assert.Multiple(() =>
        {
            Assert.That(plan.Tasks.Single(t => t.Name == "Design the system").Agent, Is.EqualTo(AgentCatalog.Analyst.Name));
            Assert.That(plan.Tasks.Single(t => t.Name.Contains("roadmap", StringComparison.Ordinal)).Agent, Is.EqualTo(AgentCatalog.Writer.Name));
        });
    }

    [Test]
    public void Plan_DesignAContentPlan_StaysWithTheWriter()
    {
        var plan = Plan(SimulatedRuns.YouTubeGoal);

        Assert.That(plan.Tasks.Single(t => t.Name.Contains("30-day", StringComparison.Ordinal)).Agent, Is.EqualTo(AgentCatalog.Writer.Name));
    }

    [Test]
    public void Plan_TheirAfterACountedResearchStep_NamesWhatItRefersTo()
    {
        var plan = Plan(SimulatedRuns.YouTubeGoal);

        Assert.That(plan.Tasks.Select(t => t.Name), Does.Contain("Extract the channels' content patterns"));
    }

    [Test]
    public void Plan_OneClauseGoal_NamesEachAgentsTaskForWhatItDoes()
    {
        var plan = Plan("Plan and launch a faceless YouTube channel about AI tools for freelancers.");

        Assert.That(plan.Tasks.Where(t => t.Kind == TaskKind.Agent).Select(t => t.Name), Has.None.Contains(": "));
    }

    static RunPlan Plan(string goal)
    {
        var agents = AgentCatalog.Resolve(null);
        return DeterministicPlanner.Plan(new RunDefinition(goal, agents, ["brand voice"], [], false, null, null), agents);
    }
}
