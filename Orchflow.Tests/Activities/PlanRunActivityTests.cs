using Microsoft.DurableTask;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Orchflow.Abstractions;
using Orchflow.Activities;
using Orchflow.Domain;
using Orchflow.Models;
using Orchflow.Orchestrators;
using Orchflow.Planning;

namespace Orchflow.Tests.Activities;

/// <summary>
/// The plan activity's writes: a run shows planning while its model plans, and a plan that needs no model, or comes
/// within the call's grace, is saved in the batch that announces planning.
/// </summary>
[TestFixture]
public sealed class PlanRunActivityTests
{
    const string AccountId = "acct-1";
    const string RunId = "run-1";

    [Test]
    public async Task RunAsync_ClientsOwnPlan_AnnouncesPlanningAndSavesThePlanInOneChange()
    {
        var runs = Queued(new RunDefinition("Plan our launch.", [], [], [], false, null, null,
            Plan: [new PlannedTask("T1", "Research", "Research the market.", TaskKind.Agent, "research", [])]));

        var outline = await Activity(runs, latencyMs: 0).RunAsync(Mock.Of<TaskActivityContext>(), new PlanInput(AccountId, RunId));

        Assert.Multiple(() =>
        {
            Assert.That(outline!.Tasks.Select(t => t.TaskId), Is.EqualTo(new[] { "T1" }));
            Assert.That(runs.Calls, Is.EqualTo(new[] { "read", "change" }));
            Assert.That(runs.Logged, Is.EqualTo(new[] { new[] { "run.planning", "run.planned" } }));
            Assert.That(runs.Run(RunId).Status, Is.EqualTo(RunStatus.Planning), "it runs when its first tasks start");
        });
    }

    [Test]
    public async Task RunAsync_ModelAnswersWithinTheGrace_AnnouncesPlanningWithThePlan()
    {
        var runs = Queued(Definition());

        var outline = await Activity(runs, latencyMs: 0).RunAsync(Mock.Of<TaskActivityContext>(), new PlanInput(AccountId, RunId));

        Assert.Multiple(() =>
        {
            Assert.That(outline!.Tasks, Is.Not.Empty);
            Assert.That(runs.Calls, Is.EqualTo(new[] { "read", "change" }));
            Assert.That(runs.Logged, Is.EqualTo(new[] { new[] { "run.planning", "run.planned" } }));
        });
    }

    [Test]
    public async Task RunAsync_ModelSlowerThanTheGrace_ShowsPlanningWhileTheModelPlans()
    {
        var runs = Queued(Definition());
        var planning = new List<RunStatus>();
        runs.OnChange = () => planning.Add(runs.Run(RunId).Status);

        var outline = await Activity(runs, latencyMs: 300).RunAsync(Mock.Of<TaskActivityContext>(), new PlanInput(AccountId, RunId));

        Assert.Multiple(() =>
        {
            Assert.That(outline!.Tasks, Is.Not.Empty);
            Assert.That(runs.Calls, Is.EqualTo(new[] { "read", "change", "change" }));
            Assert.That(runs.Logged, Is.EqualTo(new[] { new[] { "run.planning" }, new[] { "run.planned" } }));
            Assert.That(planning, Is.EqualTo(new[] { RunStatus.Queued, RunStatus.Planning }), "planning shown before the plan is saved");
        });
    }

    [Test]
    public async Task RunAsync_RunCancelledBeforeASlowPlansPlanningIsRecorded_StopsTheCallAndSavesNothing()
    {
        var runs = Queued(Definition());
        await runs.ChangeAsync(AccountId, RunId, (run, now) => RunTransitions.Cancel(run, now), CancellationToken.None);
        // The run as this process read it before the cancel: the activity plans, and its announcement is refused.
        var read = new Mock<IRunStore>();
        read.Setup(r => r.GetAsync(AccountId, RunId, It.IsAny<CancellationToken>())).ReturnsAsync(runs.Run(RunId) with { Status = RunStatus.Queued });
        read.Setup(r => r.ChangeAsync(AccountId, RunId, It.IsAny<RunDecider>(), It.IsAny<CancellationToken>()))
            .Returns((string account, string run, RunDecider decide, CancellationToken token) => runs.ChangeAsync(account, run, decide, token));

        var planning = Activity(read.Object, latencyMs: 60_000).RunAsync(Mock.Of<TaskActivityContext>(), new PlanInput(AccountId, RunId));
        var outline = await planning.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(outline, Is.Null, "a minute's call stopped at once");
            Assert.That(runs.Calls[^1], Does.StartWith("change refused"));
            Assert.That(runs.Logged, Is.EqualTo(new[] { new[] { "run.cancelled" } }), "the cancel alone");
        });
    }

    [Test]
    public void RunAsync_ProviderGoneBeforeTheCall_AnnouncesPlanningSoTheFailureFollowsIt()
    {
        var runs = Queued(Definition());
        var models = new Mock<IRunModelFactory>(MockBehavior.Strict);
        models.Setup(f => f.ForRunAsync(AccountId, null, It.IsAny<CancellationToken>())).ThrowsAsync(new InvalidOperationException("No such provider."));
        var activity = new PlanRunActivity(runs, models.Object, new Planner(TimeProvider.System, NullLogger<Planner>.Instance), TimeProvider.System,
            NullLogger<PlanRunActivity>.Instance);

        Assert.ThrowsAsync<InvalidOperationException>(() => activity.RunAsync(Mock.Of<TaskActivityContext>(), new PlanInput(AccountId, RunId)));

        Assert.That(runs.Logged, Is.EqualTo(new[] { new[] { "run.planning" } }), "the run's failure follows its planning, as it did before");
    }

    static RunDefinition Definition() => new("Research 3 competitors, then write a launch plan.", [], [], [], false, null, null);

    static InMemoryRunStore Queued(RunDefinition definition)
    {
        var store = new InMemoryRunStore();
        store.Put(RunRecord.Queued(RunId, AccountId, definition, DateTimeOffset.UtcNow));
        return store;
    }

    static PlanRunActivity Activity(IRunStore runs, int latencyMs)
    {
        var model = new SimulatedRunModel(Options.Create(new SimulatedModelOptions { LatencyMs = latencyMs }), TimeProvider.System);
        var models = new Mock<IRunModelFactory>(MockBehavior.Strict);
        models.Setup(f => f.ForRunAsync(AccountId, null, It.IsAny<CancellationToken>())).ReturnsAsync(model);
        return new PlanRunActivity(runs, models.Object, new Planner(TimeProvider.System, NullLogger<Planner>.Instance), TimeProvider.System,
            NullLogger<PlanRunActivity>.Instance);
    }
}
