namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// One commit at a time per run within this process. Tasks of one run that end together (a parallel group, a person's
/// answer beside an agent's output) would otherwise decide on the same image, and all but one would fail on its ETag,
/// read the partition and write again. Queued here, each decides on the image the one before it left. Writers in other
/// processes are still kept apart by the ETags alone. A run's gate lives only while someone holds or awaits it.
/// </summary>
sealed class RunGates
{
    readonly Dictionary<string, Gate> gates = new(StringComparer.Ordinal);

    /// <summary>Waits for the run's gate; disposing what comes back opens it for the next writer.</summary>
    public async Task<IDisposable> EnterAsync(string runId, CancellationToken cancellationToken)
    {
        Gate gate;
        lock (gates)
        {
            if (!gates.TryGetValue(runId, out gate!))
            {
                gates[runId] = gate = new Gate(this, runId);
            }

            gate.Users++;
        }

        try
        {
            await gate.Semaphore.WaitAsync(cancellationToken);
        }
        catch
        {
            Leave(gate);
            throw;
        }

        return gate.Held();
    }

    /// <summary>How many runs have a gate now: none once every writer has left.</summary>
    public int Count
    {
        get
        {
            lock (gates)
            {
                return gates.Count;
            }
        }
    }

    void Leave(Gate gate)
    {
        lock (gates)
        {
            if (--gate.Users == 0)
            {
                gates.Remove(gate.RunId);
                gate.Semaphore.Dispose();
            }
        }
    }

    sealed class Gate(RunGates owner, string runId)
    {
        public RunGates Owner { get; } = owner;

        public string RunId { get; } = runId;

        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        /// <summary>Writers holding or awaiting the gate; guarded by the owner's lock.</summary>
        public int Users { get; set; }

        public IDisposable Held() => new Holder(this);

        sealed class Holder(Gate gate) : IDisposable
        {
            int disposed;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref disposed, 1) == 0)
                {
                    gate.Semaphore.Release();
                    gate.Owner.Leave(gate);
                }
            }
        }
    }
}
