using System.Text.Json.Nodes;
using Orchflow.Domain;
using Orchflow.Functions.Streaming;

namespace Orchflow.Tests.Functions.Streaming;

/// <summary>
/// Which texts a run's log says are being written: what a stream reads from storage while another instance writes them.
/// Between one task's end and the next one's start nothing is written, so nothing is read.
/// </summary>
[TestFixture]
public sealed class RunWritersTests
{
    long sequence;

    [Test]
    public void Writing_BetweenOneTasksEndAndTheNextOnesStart_IsNothing()
    {
        var writers = new RunWriters();

        writers.Follow([Planned(2), Event(EventTypes.TaskStarted, "T1"), Event(EventTypes.RunRunning)]);
        var whileT1 = writers.Writing.ToList();
        writers.Follow([Event(EventTypes.TaskCompleted, "T1")]);

        Assert.Multiple(() =>
        {
            Assert.That(whileT1, Is.EqualTo(new[] { "T1" }));
            Assert.That(writers.Writing, Is.Empty, "T2 has not started and the synthesis waits for it");
        });
    }

    [Test]
    public void Writing_EveryTaskCompletedWhileTheRunRuns_IsTheSynthesis()
    {
        var writers = new RunWriters();

        writers.Follow([
            Planned(2), Event(EventTypes.TaskStarted, "T1"), Event(EventTypes.RunRunning), Event(EventTypes.TaskCompleted, "T1"),
            Event(EventTypes.TaskStarted, "T2"), Event(EventTypes.TaskCompleted, "T2"),
        ]);
        var synthesizing = writers.Writing.ToList();
        writers.Follow([Event(EventTypes.RunCompleted)]);

        Assert.Multiple(() =>
        {
            Assert.That(synthesizing, Is.EqualTo(new[] { "" }));
            Assert.That(writers.Writing, Is.Empty);
        });
    }

    [Test]
    public void Writing_ADraftSentBackAfterItsTaskCompleted_WaitsForTheRedoBeforeTheSynthesis()
    {
        var writers = new RunWriters();

        writers.Follow([
            Planned(1), Event(EventTypes.TaskStarted, "T1"), Event(EventTypes.RunRunning), Event(EventTypes.TaskWaitingHuman, "T1"),
            Event(EventTypes.RunWaitingHuman), Event(EventTypes.TaskRevisionRequested, "T1"), Event(EventTypes.RunRunning),
        ]);
        var redoing = writers.Writing.ToList();
        writers.Follow([Event(EventTypes.TaskCompleted, "T1")]);

        Assert.Multiple(() =>
        {
            Assert.That(redoing, Is.EqualTo(new[] { "T1" }));
            Assert.That(writers.Writing, Is.EqualTo(new[] { "" }));
        });
    }

    [Test]
    public void Writing_APlanReplacedByItsReview_CountsTheNewPlansTasksOnly()
    {
        var writers = new RunWriters();

        writers.Follow([Planned(1), Planned(2), Event(EventTypes.TaskStarted, "T1"), Event(EventTypes.RunRunning), Event(EventTypes.TaskCompleted, "T1")]);

        Assert.That(writers.Writing, Is.Empty, "T2 of the new plan is still to run");
    }

    [Test]
    public void Writing_FeedThatBeganAfterThePlan_TakesTheSynthesisToBeWrittenWheneverNoTaskRuns()
    {
        var writers = new RunWriters();

        writers.Follow([Event(EventTypes.RunRunning)]);

        Assert.That(writers.Writing, Is.EqualTo(new[] { "" }), "without the plan's size, a text is never missed");
    }

    RunLogEntry Planned(int tasks) =>
        new(++sequence, EventTypes.RunPlanned, DateTimeOffset.UnixEpoch, null, new JsonObject { ["task_count"] = tasks, ["planned_by"] = "test" });

    RunLogEntry Event(string type, string? taskId = null) => new(++sequence, type, DateTimeOffset.UnixEpoch, taskId, []);
}
