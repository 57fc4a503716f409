using System.Text.Json.Nodes;
using Orchflow.Domain;
using Orchflow.Functions.Streaming;

namespace Orchflow.Tests.Functions.Streaming;

/// <summary>
/// The logs a process keeps of the runs it logged whole: only from a run's first event, only while nothing was logged
/// elsewhere in between, never past the run's end, and no more runs than the bound.
/// </summary>
[TestFixture]
public sealed class RunLogTailsTests
{
    RunLogTails tails = null!;

    [SetUp]
    public void NewTails() => tails = new RunLogTails();

    [Test]
    public void Logged_FromTheFirstEvent_TheLogIsHeldInOrder()
    {
        tails.Logged("run_a", [Entry(1, EventTypes.RunQueued)]);
        tails.Logged("run_a", [Entry(2, EventTypes.RunPlanning), Entry(3, EventTypes.RunPlanned)]);

        Assert.That(Sequences("run_a"), Is.EqualTo(new long[] { 1, 2, 3 }));
    }

    [Test]
    public void Logged_RunBegunElsewhere_NothingIsHeld()
    {
        tails.Logged("run_a", [Entry(4, EventTypes.RunRunning)]);

        Assert.That(tails.Of("run_a"), Is.Empty);
    }

    [Test]
    public void Logged_AfterAGap_TheLogIsDropped()
    {
        tails.Logged("run_a", [Entry(1, EventTypes.RunQueued)]);
        // Event 2 was logged by another instance.
        tails.Logged("run_a", [Entry(3, EventTypes.RunPlanned)]);
        tails.Logged("run_a", [Entry(4, EventTypes.RunRunning)]);

        Assert.That(tails.Of("run_a"), Is.Empty, "a log with a hole is never held again");
    }

    [Test]
    public void Logged_EventsHeldAlready_AreNotHeldTwice()
    {
        tails.Logged("run_a", [Entry(1, EventTypes.RunQueued), Entry(2, EventTypes.RunPlanning)]);
        tails.Logged("run_a", [Entry(2, EventTypes.RunPlanning), Entry(3, EventTypes.RunPlanned)]);

        Assert.That(Sequences("run_a"), Is.EqualTo(new long[] { 1, 2, 3 }));
    }

    [Test]
    public void Logged_TheRunsLastEvent_TheLogGoes()
    {
        tails.Logged("run_a", [Entry(1, EventTypes.RunQueued)]);
        tails.Logged("run_a", [Entry(2, EventTypes.RunCancelled)]);

        Assert.Multiple(() =>
        {
            Assert.That(tails.Of("run_a"), Is.Empty);
            Assert.That(tails.Count, Is.Zero);
        });
    }

    [Test]
    public void Logged_LongerThanAPage_TheLogIsLeftToStorage()
    {
        tails.Logged("run_a", Enumerable.Range(1, RunLogTails.MaxEntries).Select(i => Entry(i, EventTypes.TaskStarted)).ToList());

        tails.Logged("run_a", [Entry(RunLogTails.MaxEntries + 1, EventTypes.TaskCompleted)]);

        Assert.That(tails.Of("run_a"), Is.Empty);
    }

    [Test]
    public void Logged_MoreRunsThanTheBound_TheOneLoggedToLeastRecentlyGoes()
    {
        for (var i = 0; i < RunLogTails.MaxRuns; i++)
        {
            tails.Logged($"run_{i}", [Entry(1, EventTypes.RunQueued)]);
        }

        // run_0 is logged to again, so run_1 is now the least recent.
        tails.Logged("run_0", [Entry(2, EventTypes.RunPlanning)]);
        tails.Logged("run_new", [Entry(1, EventTypes.RunQueued)]);

        Assert.Multiple(() =>
        {
            Assert.That(tails.Count, Is.EqualTo(RunLogTails.MaxRuns));
            Assert.That(tails.Of("run_1"), Is.Empty);
            Assert.That(Sequences("run_0"), Is.EqualTo(new long[] { 1, 2 }));
            Assert.That(Sequences("run_new"), Is.EqualTo(new long[] { 1 }));
        });
    }

    [Test]
    public void Logged_EventsDataPastTheBound_TheRunsLoggedToLeastRecentlyGo()
    {
        // Long feedback, as a client may send: a quarter of the bound each.
        var feedback = new string('x', (int)(RunLogTails.MaxChars / 4));
        for (var i = 0; i < 5; i++)
        {
            tails.Logged($"run_{i}", [Entry(1, EventTypes.RunQueued), Entry(2, EventTypes.TaskRevisionRequested, new JsonObject { ["feedback"] = feedback })]);
        }

        Assert.Multiple(() =>
        {
            Assert.That(tails.Chars, Is.LessThanOrEqualTo(RunLogTails.MaxChars));
            Assert.That(tails.Of("run_0"), Is.Empty, "the least recent went first");
            Assert.That(Sequences("run_4"), Is.EqualTo(new long[] { 1, 2 }));
        });
    }

    [Test]
    public void Logged_RunsThatGo_TakeTheirDataWithThem()
    {
        tails.Logged("run_a", [Entry(1, EventTypes.RunQueued, new JsonObject { ["prompt"] = "Tell us about your company." })]);
        tails.Logged("run_b", [Entry(1, EventTypes.RunQueued)]);

        tails.Logged("run_a", [Entry(2, EventTypes.RunCompleted)]);
        tails.Logged("run_b", [Entry(3, EventTypes.RunRunning)]);

        Assert.That(tails.Chars, Is.Zero);
    }

    [Test]
    public void Of_ACopy_LaterEventsDoNotChangeWhatWasTaken()
    {
        tails.Logged("run_a", [Entry(1, EventTypes.RunQueued)]);
        var taken = tails.Of("run_a");

        tails.Logged("run_a", [Entry(2, EventTypes.RunPlanning)]);

        Assert.That(taken.Select(e => e.Sequence), Is.EqualTo(new long[] { 1 }));
    }

    IEnumerable<long> Sequences(string runId) => tails.Of(runId).Select(e => e.Sequence);

    static RunLogEntry Entry(long sequence, string type, JsonObject? data = null) => new(sequence, type, DateTimeOffset.UtcNow, null, data ?? new JsonObject());
}
