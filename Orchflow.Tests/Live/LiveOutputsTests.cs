using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Live;
using Orchflow.Tests.Activities;

namespace Orchflow.Tests.Live;

/// <summary>
/// A task's text as it is written: held in memory for this process's streams the moment it grows, saved for other
/// instances' coalesced and, once saved, once more, done, at the end; written anew, it is a new generation from offset 0.
/// </summary>
[TestFixture]
public sealed class LiveOutputsTests
{
    [Test]
    public async Task Writer_EndedBeforeItsFirstFlush_IsInMemoryAtOnceAndNeverSaved()
    {
        var store = new MemoryLiveOutputStore();
        var live = store.Outputs(flushMs: 10_000);
        var told = new List<string>();
        live.Changed += told.Add;

        var writer = live.Open("run_1", "T2");
        writer.Append("One ");
        writer.Append("two.");
        var whileWriting = live.Snapshot("run_1").Single();
        await writer.DisposeAsync();

        Assert.Multiple(() =>
        {
            Assert.That(whileWriting, Has.Property(nameof(LiveText.Text)).EqualTo("One two.").And.Property(nameof(LiveText.Done)).False);
            Assert.That(told, Has.Count.EqualTo(3), "each piece, and the end");
            Assert.That(store.Saves, Is.Empty, "shorter than a flush: the task's output, recorded as it completes, is all other instances need");
            Assert.That(live.Snapshot("run_1"), Is.Empty, "an ended writing is no longer this process's to show");
        });
    }

    [Test]
    public async Task Writer_SavedWhileWriting_IsSavedOnceMoreDoneAtTheEnd()
    {
        var store = new MemoryLiveOutputStore();
        var writer = store.Outputs(flushMs: 20).Open("run_1", "T2");
        writer.Append("One ");
        await WaitUntilAsync(() => store.Saves.Count >= 1);
        writer.Append("two.");
        await writer.DisposeAsync();

        Assert.That(store.Saves[^1], Has.Property(nameof(LiveText.Text)).EqualTo("One two.").And.Property(nameof(LiveText.Done)).True);
    }

    [Test]
    public async Task Writer_WritingForSeveralFlushes_SavesWhatChangedEachTime()
    {
        var store = new MemoryLiveOutputStore();
        await using var writer = store.Outputs(flushMs: 20).Open("run_1", null);

        writer.Append("First.");
        await WaitUntilAsync(() => store.Saves.Count >= 1);
        writer.Append(" Second.");
        await WaitUntilAsync(() => store.Saves.Count >= 2);

        Assert.That(store.Saves.Take(2).Select(s => s.Text), Is.EqualTo(new[] { "First.", "First. Second." }));
    }

    [Test]
    public async Task Writer_Restarted_BeginsANewGenerationFromNothing()
    {
        var store = new MemoryLiveOutputStore();
        await using var writer = store.Outputs().Open("run_1", "T1");
        writer.Append("A first try.");
        var first = writer.Text;

        writer.Restart();
        writer.Append("Again.");

        Assert.Multiple(() =>
        {
            Assert.That(writer.Text.Text, Is.EqualTo("Again."));
            Assert.That(writer.Text.Generation, Is.Not.EqualTo(first.Generation));
        });
    }

    [Test]
    public async Task Writer_PastTheLimit_KeepsTheTextAtTheLimit()
    {
        var live = new LiveOutputs(new MemoryLiveOutputStore(), Options.Create(new LiveOutputOptions { MaxChars = 1_000, FlushMs = 10_000 }),
            NullLogger<LiveOutputs>.Instance);
        await using var writer = live.Open("run_1", "T1");

        writer.Append(new string('x', 900));
        writer.Append(new string('y', 300));

        Assert.That(writer.Text.Text, Has.Length.EqualTo(1_000).And.EndsWith("yy"));
    }

    static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the condition was not reached");
            await Task.Delay(5);
        }
    }
}
