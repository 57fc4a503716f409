namespace Orchflow.Tests.Orchestrators;

/// <summary>A durable timer the test fires; cancelled, like the engine's, when its token is.</summary>
public sealed class FakeTimer
{
    readonly TaskCompletionSource source = new();

    readonly Action<DateTime> setClock;

    public FakeTimer(DateTime fireAt, CancellationToken token, Action<DateTime> setClock)
    {
        FireAt = fireAt;
        Token = token;
        this.setClock = setClock;
        token.Register(() => source.TrySetCanceled(token));
    }

    public DateTime FireAt { get; }

    public CancellationToken Token { get; }

    public Task Fired => source.Task;

    /// <summary>Fires on time: the orchestration's clock reads the timer's due time.</summary>
    public void Fire()
    {
        setClock(FireAt);
        source.SetResult();
    }
}
