namespace Orchflow.Tests.Support;

/// <summary>
/// Standalone hosts that fixtures with equal settings share. A fixture takes a host for its settings and gives it back
/// when it is done; a host given back stays up, idle, for the next fixture that asks for its settings, until a fixture
/// asks for settings no idle host has. Hosted fixtures run two at a time (<see cref="HostedTests"/>), so up to two hosts
/// stay idle, one given back by each. Keeping idle hosts any longer would cost more than it saves: an idle host and its
/// share of Azurite use about a quarter of a core polling.
/// </summary>
public static class HostPool
{
    /// <summary>How many hosts stay up idle at most: one for each fixture that can run at once.</summary>
    const int MaxIdle = HostedTests.AtOnce;

    static readonly SemaphoreSlim Gate = new(1, 1);
    static readonly List<OrchflowHost> Started = [];

    /// <summary>The hosts given back and still up, the last given back last.</summary>
    static readonly List<HostLease> Idle = [];

    /// <summary>A host with the test defaults and these settings: an idle one with these settings if there is one, else a new one.</summary>
    public static async Task<HostLease> TakeAsync(IReadOnlyDictionary<string, string>? settings)
    {
        // What the host runs with, not how a fixture spells it: a fixture that repeats a default shares the default host.
        var key = string.Join('\n', TestHosts.With(settings).OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}"));
        var ending = new List<OrchflowHost>();
        await Gate.WaitAsync();
        try
        {
            // A host a test left stopped or crashed is of no use to the next fixture.
            foreach (var dead in Idle.Where(l => !l.Host.IsRunning).ToList())
            {
                Idle.Remove(dead);
                ending.Add(dead.Host);
            }

            var kept = Idle.LastOrDefault(l => l.Key == key);
            if (kept is not null)
            {
                Idle.Remove(kept);
            }
            else
            {
                // Settings no idle host has: as when fixtures ran one at a time, the idle hosts are of no further use.
                ending.AddRange(Idle.Select(l => l.Host));
                Idle.Clear();
            }

            foreach (var host in ending)
            {
                Started.Remove(host);
            }

            if (kept is not null)
            {
                return kept;
            }
        }
        finally
        {
            Gate.Release();
            await EndAsync(ending);
        }

        // Outside the gate: the other fixture running may give back or take a host meanwhile.
        var started = await TestHosts.StartAsync(settings);
        await Gate.WaitAsync();
        try
        {
            Started.Add(started);
        }
        finally
        {
            Gate.Release();
        }

        return new HostLease(started, key);
    }

    /// <summary>Gives a host back: kept for a later fixture when <paramref name="keep"/>, else ended now.</summary>
    public static async Task GiveBackAsync(HostLease lease, bool keep)
    {
        var ending = new List<OrchflowHost>();
        await Gate.WaitAsync();
        try
        {
            if (keep)
            {
                Idle.Add(lease);
            }
            else
            {
                ending.Add(lease.Host);
            }

            while (Idle.Count > MaxIdle)
            {
                ending.Add(Idle[0].Host);
                Idle.RemoveAt(0);
            }

            foreach (var host in ending)
            {
                Started.Remove(host);
            }
        }
        finally
        {
            Gate.Release();
            await EndAsync(ending);
        }
    }

    /// <summary>Ends every host the pool started that is still up, whatever its fixtures did: the run is over.</summary>
    public static async Task EndAllAsync()
    {
        List<OrchflowHost> ending;
        await Gate.WaitAsync();
        try
        {
            Idle.Clear();
            ending = [.. Started];
            Started.Clear();
        }
        finally
        {
            Gate.Release();
        }

        await EndAsync(ending);
    }

    static async Task EndAsync(IEnumerable<OrchflowHost> hosts)
    {
        foreach (var host in hosts)
        {
            await TestHosts.EndAsync(host);
        }
    }
}

/// <summary>A host taken from the <see cref="HostPool"/>, with the settings it was taken for.</summary>
public sealed record HostLease(OrchflowHost Host, string Key);
