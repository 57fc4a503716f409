using Orchflow.Infrastructure.Storage;

namespace Orchflow.Tests.Infrastructure;

/// <summary>This process's writers of a run take turns; other runs' writers never wait on them; no gate outlives its writers.</summary>
[TestFixture]
public sealed class RunGatesTests
{
    [Test]
    public async Task EnterAsync_SameRun_TheSecondWaitsUntilTheFirstLeaves()
    {
        var gates = new RunGates();
        var first = await gates.EnterAsync("run_a", CancellationToken.None);

        var second = gates.EnterAsync("run_a", CancellationToken.None);
        await Task.Yield();
        Assert.That(second.IsCompleted, Is.False, "the run's gate is held");

        first.Dispose();
        (await second).Dispose();
        Assert.That(gates.Count, Is.Zero, "no gate is kept once its writers left");
    }

    [Test]
    public async Task EnterAsync_AnotherRun_DoesNotWait()
    {
        var gates = new RunGates();
        using var first = await gates.EnterAsync("run_a", CancellationToken.None);

        var other = gates.EnterAsync("run_b", CancellationToken.None);

        Assert.That(other.IsCompletedSuccessfully, Is.True);
        (await other).Dispose();
    }

    [Test]
    public async Task EnterAsync_CancelledWhileWaiting_ThrowsAndLeavesNothingHeld()
    {
        var gates = new RunGates();
        var first = await gates.EnterAsync("run_a", CancellationToken.None);
        using var cancel = new CancellationTokenSource();

        var waiting = gates.EnterAsync("run_a", cancel.Token);
        await cancel.CancelAsync();

        Assert.That(async () => await waiting, Throws.InstanceOf<OperationCanceledException>());
        first.Dispose();
        first.Dispose();
        Assert.That(gates.Count, Is.Zero);
        using var again = await gates.EnterAsync("run_a", CancellationToken.None);
    }

    [Test]
    public async Task EnterAsync_ManyWritersOfOneRun_NeverTwoInside()
    {
        var gates = new RunGates();
        var (inside, most) = (0, 0);

        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            using var turn = await gates.EnterAsync("run_a", CancellationToken.None);
            var now = Interlocked.Increment(ref inside);
            InterlockedMax(ref most, now);
            await Task.Delay(1);
            Interlocked.Decrement(ref inside);
        })));

        Assert.That(most, Is.EqualTo(1));
        Assert.That(gates.Count, Is.Zero);
    }

    static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
