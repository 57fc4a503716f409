using Orchflow.Domain;
using Orchflow.Orchestrators;
using static Orchflow.Tests.Orchestrators.FakeRun;

namespace Orchflow.Tests.Orchestrators;

/// <summary>
/// What the orchestrator tells its agent tasks of the run's version: the highest that what it awaited reported (the
/// plan, results, people's replies), so an activity whose process holds a copy at least that new need not ask storage;
/// 0 where it cannot know.
/// </summary>
[TestFixture]
public sealed class RunVersionsTests : FakeRunTests
{
    [Test]
    public void RunAsync_EachAgent_IsToldTheHighestVersionOfWhatItDependsOnWhicheverArrivedLast()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Human("T1"), Agent("T2"), Agent("T3", "T1", "T2"), Agent("T4", "T3"));

        run.RecordAgentResult("T2");
        var outputWritten = run.Version;
        run.Answer("T1", 0, HumanDecision.Accepted);
        var answered = run.Version;
        run.DeliverAgentResult("T2");
        run.RecordAgentResult("T3");
        var t3Done = run.Version;
        run.DeliverAgentResult("T3");
        run.CompleteAgent("T4");

        Assert.Multiple(() =>
        {
            Assert.That(run.AgentStarts.Select(a => (a.TaskId, a.Reached)), Is.EqualTo(new[] { ("T2", 0L), ("T3", answered), ("T4", t3Done) }),
                "T2 starts in the batch that records T1 waiting, whose version no activity reports; T3 after T1's answer, " +
                "which landed after T2's output though its news came first");
            Assert.That(outputWritten, Is.LessThan(answered));
        });
    }

    [Test]
    public void RunAsync_ToolCallAnswered_TheTaskGoesOnToldTheVersionTheAnswerLandedAt()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Agent("T1"));
        run.AskApprovedTool("T1");

        run.AnswerToolCall("T1", approve: true);

        Assert.That(run.AgentStarts.Select(a => a.Reached), Is.EqualTo(new[] { run.PlannedAt, run.Version }),
            "the answer shows the task running again: its loop must see that");
    }

    [Test]
    public void RunAsync_AResultWithoutAVersion_LeavesEveryLaterActivityToAskStorage()
    {
        var run = NewRun();
        run.StartPlanned(Engine(), Agent("T1"), Agent("T2"), Agent("T3", "T1"), Agent("T4", "T2", "T3"));

        run.ReportsVersions = false;
        run.CompleteAgent("T1");
        run.ReportsVersions = true;
        run.CompleteAgent("T2");
        run.CompleteAgent("T3");
        run.CompleteAgent("T4");

        Assert.That(run.AgentStarts.Select(a => (a.TaskId, a.Reached)),
            Is.EqualTo(new[] { ("T1", run.PlannedAt), ("T2", run.PlannedAt), ("T3", 0L), ("T4", 0L) }),
            "versions reported after one that was not could not vouch for it");
    }
}
