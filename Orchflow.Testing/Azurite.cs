namespace Orchflow.Testing;

/// <summary>An Azurite instance on free loopback ports with its own data folder; stopped and deleted on dispose.</summary>
public sealed class Azurite : IAsyncDisposable
{
    const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    readonly string dataDirectory;
    readonly int[] ports;
    ChildProcess? process;

    Azurite(string dataDirectory, int blob, int queue, int table)
    {
        this.dataDirectory = dataDirectory;
        ports = [blob, queue, table];
        ConnectionString =
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + AccountKey + ";" +
            $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;" +
            $"QueueEndpoint=http://127.0.0.1:{queue}/devstoreaccount1;" +
            $"TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";
        TablePort = table;
    }

    public string ConnectionString { get; }

    public int TablePort { get; }

    public static async Task<Azurite> StartAsync()
    {
        if (!File.Exists(RepoPaths.Azurite))
        {
            throw new InvalidOperationException($"Azurite is not installed at {RepoPaths.Azurite}; run scripts/test.sh or scripts/bench.sh (they install it with npm).");
        }

        var data = Directory.CreateTempSubdirectory("orchflow-azurite-").FullName;
        var azurite = new Azurite(data, Ports.FreeLoopbackPort(), Ports.FreeLoopbackPort(), Ports.FreeLoopbackPort());
        try
        {
            await azurite.LaunchAsync();
        }
        catch
        {
            await azurite.DisposeAsync();
            throw;
        }

        return azurite;
    }

    /// <summary>Stops Azurite as an outage would, keeping its data and ports for <see cref="StartAgainAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (process is not null)
        {
            await process.StopAsync(TimeSpan.FromSeconds(5));
            process.Dispose();
            process = null;
        }
    }

    /// <summary>Starts Azurite again on the same ports and data, after <see cref="StopAsync"/>.</summary>
    public Task StartAgainAsync() => process is null ? LaunchAsync() : Task.CompletedTask;

    async Task LaunchAsync()
    {
        process = ChildProcess.Start(RepoPaths.Azurite,
        [
            "--location", dataDirectory, "--silent", "--skipApiVersionCheck", "--disableTelemetry", "--loose",
            "--blobHost", "127.0.0.1", "--blobPort", ports[0].ToString(),
            "--queueHost", "127.0.0.1", "--queuePort", ports[1].ToString(),
            "--tableHost", "127.0.0.1", "--tablePort", ports[2].ToString(),
        ]);
        foreach (var port in ports)
        {
            await Ports.WaitUntilOpenAsync(port, TimeSpan.FromSeconds(30));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Azurite may still be flushing; the temp folder is cleaned by the OS eventually.
        }
    }
}
