namespace Orchflow.Tests.Support;

/// <summary>
/// Standalone hosts that fixtures with equal settings share. A fixture takes a host for its settings and gives it back
/// when it is done; the host given back last stays up until a fixture asks for other settings or the run ends, so
/// fixtures with the same settings that run one after another start one host between them. Keeping idle hosts any
/// longer would cost more than it saves: an idle host and its share of Azurite use about a sixth of a core polling.
/// </summary>
public static class HostPool
{
    static readonly SemaphoreSlim Gate = new(1, 1);
    static readonly List<OrchflowHost> Started = [];
    static HostLease? idle;

    /// <summary>A host with the test defaults and these settings: the one given back last if its settings are these, else a new one.</summary>
    public static async Task<HostLease> TakeAsync(IReadOnlyDictionary<string, string>? settings)
    {
        // What the host runs with, not how a fixture spells it: a fixture that repeats a default shares the default host.
        var key = string.Join('\n', TestHosts.With(settings).OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}"));
        await Gate.WaitAsync();
        try
        {
            if (idle is { } kept)
            {
                idle = null;
                // A host a test left stopped or crashed is of no use to the next fixture.
                if (kept.Key == key && kept.Host.IsRunning)
                {
                    return kept;
                }

                await EndAsync(kept.Host);
            }

            var host = await TestHosts.StartAsync(settings);
            Started.Add(host);
            return new HostLease(host, key);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Gives a host back: kept for the next fixture when <paramref name="keep"/>, else ended now.</summary>
    public static async Task GiveBackAsync(HostLease lease, bool keep)
    {
        await Gate.WaitAsync();
        try
        {
            if (idle is { } previous && !ReferenceEquals(previous.Host, lease.Host))
            {
                await EndAsync(previous.Host);
            }

            idle = null;
            if (keep)
            {
                idle = lease;
            }
            else
            {
                await EndAsync(lease.Host);
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Ends every host the pool started that is still up, whatever its fixtures did: the run is over.</summary>
    public static async Task EndAllAsync()
    {
        await Gate.WaitAsync();
        try
        {
            idle = null;
            foreach (var host in Started.ToList())
            {
                await EndAsync(host);
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    static async Task EndAsync(OrchflowHost host)
    {
        Started.Remove(host);
        await TestHosts.EndAsync(host);
    }
}

/// <summary>A host taken from the <see cref="HostPool"/>, with the settings it was taken for.</summary>
public sealed record HostLease(OrchflowHost Host, string Key);
