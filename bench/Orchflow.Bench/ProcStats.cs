using System.Globalization;

namespace Orchflow.Bench;

/// <summary>What Linux's /proc says about this machine and about the processes the bench runs.</summary>
public static class ProcStats
{
    /// <summary>Kernel clock ticks per second, the unit of utime and stime in /proc/[pid]/stat (100 on Linux).</summary>
    const double TicksPerSecond = 100;

    public static string CpuModel() =>
        ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
        ?? "unknown CPU";

    public static double MemoryGiB() => (StatusKiB("/proc/meminfo", "MemTotal") ?? 0) / 1024.0 / 1024.0;

    /// <summary>The one-minute load average (/proc/loadavg): runnable processes, this bench's and any other's.</summary>
    public static double LoadAverage() =>
        double.TryParse(ReadLines("/proc/loadavg").FirstOrDefault()?.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var load) ? load : double.NaN;

    /// <summary>Peak resident set size of a process (VmHWM), in MiB.</summary>
    public static double PeakRssMiB(int pid) => (StatusKiB($"/proc/{pid}/status", "VmHWM") ?? double.NaN) / 1024.0;

    /// <summary>Current resident set size of a process (VmRSS), in MiB.</summary>
    public static double RssMiB(int pid) => (StatusKiB($"/proc/{pid}/status", "VmRSS") ?? double.NaN) / 1024.0;

    /// <summary>CPU seconds (user + system) this process and each of its live children have used so far, by pid.</summary>
    public static CpuSnapshot Cpu()
    {
        var self = Environment.ProcessId;
        var seconds = new Dictionary<int, double>();
        var names = new Dictionary<int, string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || Stat(pid) is not { } stat)
            {
                continue;
            }

            if (pid == self || stat.ParentPid == self)
            {
                seconds[pid] = stat.CpuSeconds;
                names[pid] = stat.Name;
            }
        }

        return new CpuSnapshot(DateTime.UtcNow, seconds, names);
    }

    /// <summary>The first child of this process with the given command name (e.g. "node" for Azurite), if any.</summary>
    public static int? ChildPid(string name) =>
        Cpu().Names.Where(n => n.Key != Environment.ProcessId && n.Value == name).Select(n => (int?)n.Key).FirstOrDefault();

    static ProcessStat? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null; // gone while we looked
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) state ppid … utime stime …": comm may hold spaces, so split after its closing parenthesis.
        var open = text.IndexOf('(');
        var close = text.LastIndexOf(')');
        var fields = text[(close + 2)..].Split(' ');
        double Field(int number) => double.Parse(fields[number - 3], CultureInfo.InvariantCulture);
        return new ProcessStat(text[(open + 1)..close], (int)Field(4), (Field(14) + Field(15)) / TicksPerSecond);
    }

    static double? StatusKiB(string path, string key)
    {
        var line = ReadLines(path).FirstOrDefault(l => l.StartsWith(key + ":", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    static IEnumerable<string> ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (IOException)
        {
            return [];
        }
    }

    sealed record ProcessStat(string Name, int ParentPid, double CpuSeconds);
}

/// <summary>CPU seconds used by the bench process and its children at one moment.</summary>
public sealed record CpuSnapshot(DateTime At, IReadOnlyDictionary<int, double> Seconds, IReadOnlyDictionary<int, string> Names)
{
    /// <summary>CPU seconds each process used since <paramref name="earlier"/>, keyed by a readable name.</summary>
    public CpuUse Since(CpuSnapshot earlier, IReadOnlyDictionary<int, string> roles)
    {
        var used = new Dictionary<string, double>();
        foreach (var (pid, seconds) in Seconds)
        {
            var role = pid == Environment.ProcessId ? "bench" : roles.GetValueOrDefault(pid) ?? (Names[pid] == "node" ? "Azurite" : Names[pid]);
            used[role] = used.GetValueOrDefault(role) + seconds - earlier.Seconds.GetValueOrDefault(pid);
        }

        return new CpuUse((At - earlier.At).TotalSeconds, used);
    }
}

/// <summary>CPU seconds by process over a wall-clock interval.</summary>
public sealed record CpuUse(double WallSeconds, IReadOnlyDictionary<string, double> Seconds)
{
    public double Of(string role) => Seconds.GetValueOrDefault(role);

    /// <summary>"host 41 s (68% of a core), Azurite 30 s (50%) …" in the order given.</summary>
    public string Describe(params string[] roles) => string.Join(", ",
        roles.Select(r => $"{r} {Of(r):0.0} s ({100 * Of(r) / WallSeconds:0}% of one core)"));
}

/// <summary>The busiest interval (about a second each) of each process while sampled: whether one of them ran out of CPU.</summary>
public sealed class CpuPeaks(IReadOnlyDictionary<int, string> roles)
{
    readonly Dictionary<string, double> peaks = [];
    CpuSnapshot last = ProcStats.Cpu();

    /// <summary>Takes a sample; intervals shorter than half a second are merged into the next one.</summary>
    public void Sample()
    {
        var now = ProcStats.Cpu();
        var use = now.Since(last, roles);
        if (use.WallSeconds < 0.5)
        {
            return;
        }

        foreach (var (role, seconds) in use.Seconds)
        {
            peaks[role] = Math.Max(peaks.GetValueOrDefault(role), seconds / use.WallSeconds);
        }

        last = now;
    }

    /// <summary>The share of one core the process used in its busiest interval.</summary>
    public double Of(string role) => peaks.GetValueOrDefault(role);
}
