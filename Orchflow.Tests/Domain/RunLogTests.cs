using System.Text.Json.Nodes;
using Orchflow.Domain;

namespace Orchflow.Tests.Domain;

/// <summary>Replaying a run's log: where the run stood at any one of its events, as a webhook reports it later.</summary>
[TestFixture]
public sealed class RunLogTests
{
    static readonly DateTimeOffset At = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    static List<RunLogEntry> Log(params (string Type, string? Task)[] events) =>
        events.Select((e, i) => new RunLogEntry(i + 1, e.Type, At.AddSeconds(i), e.Task, new JsonObject())).ToList();

    static readonly List<RunLogEntry> Approval = Log(
        (EventTypes.RunQueued, null), (EventTypes.RunPlanning, null), (EventTypes.RunPlanned, null),
        (EventTypes.TaskWaitingHuman, "T10"), (EventTypes.TaskStarted, "T2"), (EventTypes.RunRunning, null),
        (EventTypes.TaskWaitingHuman, "T2"), (EventTypes.RunWaitingHuman, null),
        (EventTypes.TaskRevisionRequested, "T2"), (EventTypes.RunRunning, null),
        (EventTypes.TaskWaitingHuman, "T2"), (EventTypes.RunWaitingHuman, null),
        (EventTypes.TaskCompleted, "T10"), (EventTypes.TaskCompleted, "T2"), (EventTypes.RunCompleted, null));

    [TestCase(1, RunStatus.Queued, new string[0])]
    [TestCase(3, RunStatus.Planning, new string[0])]
    [TestCase(4, RunStatus.Planning, new[] { "T10" })]
    [TestCase(7, RunStatus.Running, new[] { "T2", "T10" })]
    [TestCase(8, RunStatus.WaitingHuman, new[] { "T2", "T10" })]
    [TestCase(9, RunStatus.WaitingHuman, new[] { "T10" })]
    [TestCase(10, RunStatus.Running, new[] { "T10" })]
    [TestCase(12, RunStatus.WaitingHuman, new[] { "T2", "T10" })]
    [TestCase(14, RunStatus.WaitingHuman, new string[0])]
    [TestCase(15, RunStatus.Completed, new string[0])]
    public void StandingAt_ApprovalWithARejection_StatusAndWaitingTasksInTaskOrder(int sequence, RunStatus status, string[] waiting)
    {
        var standing = RunLog.StandingAt(Approval, sequence);

        Assert.Multiple(() =>
        {
            Assert.That(standing.Status, Is.EqualTo(status));
            Assert.That(standing.WaitingOn, Is.EqualTo(waiting));
        });
    }

    [Test]
    public void StandingAt_LogGivenOutOfOrderOrWithLaterEvents_ReplaysOnlyUpToTheSequenceInOrder()
    {
        var shuffled = Approval.AsEnumerable().Reverse().ToList();

        Assert.That(RunLog.StandingAt(shuffled, 8), Is.EqualTo(RunLog.StandingAt(Approval.Take(8), 8)).Using<RunStanding>(
            (a, b) => a.Status == b.Status && a.WaitingOn.SequenceEqual(b.WaitingOn)));
    }

    [Test]
    public void StandingAt_CancelledWhileWaiting_NothingWaits()
    {
        var log = Log((EventTypes.RunQueued, null), (EventTypes.TaskWaitingHuman, "T1"), (EventTypes.RunWaitingHuman, null),
            (EventTypes.TaskCancelled, "T1"), (EventTypes.RunCancelled, null));

        var standing = RunLog.StandingAt(log, 5);

        Assert.Multiple(() =>
        {
            Assert.That(standing.Status, Is.EqualTo(RunStatus.Cancelled));
            Assert.That(standing.WaitingOn, Is.Empty);
        });
    }
}
