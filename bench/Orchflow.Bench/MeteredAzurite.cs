using System.Diagnostics;

namespace Orchflow.Bench;

/// <summary>
/// An Azurite of the bench's own whose access log is on, read line by line as Azurite writes it: what the host asks of
/// storage, counted from outside the host. Azurite logs each request in Apache's common format when it has answered
/// it (<c>127.0.0.1 - - [date] "GET /devstoreaccount1/table()?$filter=… HTTP/1.1" 200 1234</c>), with the query
/// string, so a table request can be told apart by table, partition and row range. The bench's main Azurite stays
/// silent: writing the log costs Azurite some CPU, which the figures measured there must not pay.
/// </summary>
public sealed class MeteredAzurite : IAsyncDisposable
{
    const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    readonly Process process;
    readonly string dataDirectory;
    readonly List<Meter> meters = [];
    long lines;

    MeteredAzurite(Process process, string dataDirectory, int blob, int queue, int table)
    {
        this.process = process;
        this.dataDirectory = dataDirectory;
        ConnectionString =
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + AccountKey + ";" +
            $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;" +
            $"QueueEndpoint=http://127.0.0.1:{queue}/devstoreaccount1;" +
            $"TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";
    }

    public string ConnectionString { get; }

    public int Pid => process.Id;

    /// <summary>Requests Azurite has logged so far, every service's.</summary>
    public long Lines => Interlocked.Read(ref lines);

    public static async Task<MeteredAzurite> StartAsync()
    {
        if (!File.Exists(RepoPaths.Azurite))
        {
            throw new InvalidOperationException($"Azurite is not installed at {RepoPaths.Azurite}; run scripts/bench.sh (it installs it with npm).");
        }

        var data = Directory.CreateTempSubdirectory("orchflow-bench-azurite-").FullName;
        int blob = Ports.FreeLoopbackPort(), queue = Ports.FreeLoopbackPort(), table = Ports.FreeLoopbackPort();
        var info = new ProcessStartInfo(RepoPaths.Azurite)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        // As the tests start Azurite, less --silent: the access log on stdout is the point.
        foreach (var argument in new[]
                 {
                     "--location", data, "--skipApiVersionCheck", "--disableTelemetry", "--loose",
                     "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(),
                     "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(),
                     "--tableHost", "127.0.0.1", "--tablePort", table.ToString(),
                 })
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var azurite = new MeteredAzurite(process, data, blob, queue, table);
        process.OutputDataReceived += (_, e) => azurite.Read(e.Data);
        process.ErrorDataReceived += (_, _) => { };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            foreach (var port in new[] { blob, queue, table })
            {
                await Ports.WaitUntilOpenAsync(port, TimeSpan.FromSeconds(30));
            }
        }
        catch
        {
            await azurite.DisposeAsync();
            throw;
        }

        return azurite;
    }

    /// <summary>Starts counting the requests <paramref name="which"/> picks, each with the moment its log line arrived.</summary>
    public Meter Count(Func<StorageRequest, bool> which)
    {
        var meter = new Meter(which);
        lock (meters)
        {
            meters.Add(meter);
        }

        return meter;
    }

    public void Stop(Meter meter)
    {
        lock (meters)
        {
            meters.Remove(meter);
        }
    }

    /// <summary>
    /// Where each metered Azurite's access log is copied to, one file per Azurite named by its process id, when the
    /// <c>ORCHFLOW_BENCH_ACCESS_LOGS</c> directory is set: the bench counts by kind; the copy answers by table and row.
    /// </summary>
    readonly StreamWriter? copy = Environment.GetEnvironmentVariable("ORCHFLOW_BENCH_ACCESS_LOGS") is { Length: > 0 } directory
        ? new StreamWriter(Path.Combine(Directory.CreateDirectory(directory).FullName, $"azurite-{Environment.ProcessId}-{Guid.NewGuid():N}.log"))
        : null;

    bool copyClosed;

    void Read(string? line)
    {
        if (line is null || StorageRequest.Parse(line) is not { } request)
        {
            return;
        }

        if (copy is not null)
        {
            lock (copy)
            {
                if (!copyClosed)
                {
                    copy.WriteLine($"{Stopwatch.GetTimestamp()} {line}");
                }
            }
        }

        Interlocked.Increment(ref lines);
        var at = Stopwatch.GetTimestamp();
        Meter[] active;
        lock (meters)
        {
            active = [.. meters];
        }

        foreach (var meter in active)
        {
            meter.Offer(request, at);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (copy is not null)
        {
            lock (copy)
            {
                copyClosed = true;
                copy.Dispose();
            }
        }

        if (!process.HasExited)
        {
            using (var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", process.Id.ToString()]) { UseShellExecute = false }))
            {
                term?.WaitForExit(5_000);
            }

            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }

        process.Dispose();
        try
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Azurite may still be flushing; the temp folder is cleaned by the OS eventually.
        }
    }

    /// <summary>Requests of one kind as Azurite logged them: how many, and when (bench clock, Stopwatch ticks).</summary>
    public sealed class Meter(Func<StorageRequest, bool> which)
    {
        readonly List<long> times = [];

        public int Total
        {
            get
            {
                lock (times)
                {
                    return times.Count;
                }
            }
        }

        internal void Offer(StorageRequest request, long at)
        {
            if (which(request))
            {
                lock (times)
                {
                    times.Add(at);
                }
            }
        }

        /// <summary>Requests logged from <paramref name="from"/> to <paramref name="to"/> (Stopwatch timestamps).</summary>
        public int Between(long from, long to)
        {
            lock (times)
            {
                return times.Count(t => t >= from && t <= to);
            }
        }
    }
}

/// <summary>One request in Azurite's access log, its URL decoded.</summary>
/// <param name="Resource">The path after the account: a table name with its key or <c>()</c>, a queue, a container.</param>
/// <param name="Query">The query string, decoded (a table query's <c>$filter</c>).</param>
public sealed record StorageRequest(string Method, string Resource, string Query, int Status)
{
    const string Account = "/devstoreaccount1/";

    /// <summary>
    /// The table a table request names (<c>benchx1RunTasks</c> of <c>benchx1RunTasks(PartitionKey='…',RowKey='…')</c>,
    /// of <c>benchx1RunTasks()</c> or of an insert's <c>benchx1RunTasks</c>), or null. Queue and blob paths name their
    /// queue or container the same way; the bench only ever asks for table names of its own.
    /// </summary>
    public string? Table
    {
        get
        {
            if (Resource.Contains('/'))
            {
                return null;
            }

            var open = Resource.IndexOf('(');
            var name = open < 0 ? Resource : Resource[..open];
            return name is "" or "Tables" or "$batch" ? null : name;
        }
    }

    /// <summary>A table read: a query, or a point read of one row.</summary>
    public bool IsTableRead => Method == "GET" && Table is not null;

    public bool Mentions(string text) => Resource.Contains(text, StringComparison.Ordinal) || Query.Contains(text, StringComparison.Ordinal);

    public static StorageRequest? Parse(string line)
    {
        // 127.0.0.1 - - [02/Dec/2026:18:00:00 +0000] "GET /devstoreaccount1/x()?$filter=… HTTP/1.1" 200 1234
        var open = line.IndexOf('"');
        var close = line.LastIndexOf('"');
        if (open < 0 || close <= open)
        {
            return null;
        }

        var parts = line[(open + 1)..close].Split(' ');
        if (parts.Length < 3 || !int.TryParse(line[(close + 1)..].Trim().Split(' ')[0], out var status))
        {
            return null;
        }

        var url = parts[1];
        var at = url.IndexOf(Account, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        url = url[(at + Account.Length)..];
        var query = url.IndexOf('?');
        var resource = query < 0 ? url : url[..query];
        var text = query < 0 ? "" : url[(query + 1)..];
        return new StorageRequest(parts[0], Uri.UnescapeDataString(resource), Uri.UnescapeDataString(text), status);
    }
}
