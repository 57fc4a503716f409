namespace Orchflow.Erasure;

/// <summary>Wakes this process's sweep (where it has one: the standalone host) the moment an erasure is asked for.</summary>
public sealed class ErasureSignal
{
    readonly SemaphoreSlim woken = new(0, 1);

    public void Wake()
    {
        try
        {
            woken.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken: one pass finds every erasure asked for.
        }
    }

    /// <summary>Waits until woken or until <paramref name="timeout"/> passes.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => woken.WaitAsync(timeout, cancellationToken);
}
