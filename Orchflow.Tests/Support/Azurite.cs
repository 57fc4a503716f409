namespace Orchflow.Tests.Support;

/// <summary>An Azurite instance on free loopback ports with its own data folder; stopped and deleted on dispose.</summary>
public sealed class Azurite : IAsyncDisposable
{
    const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    readonly ChildProcess process;
    readonly string dataDirectory;

    Azurite(ChildProcess process, string dataDirectory, int blob, int queue, int table)
    {
        this.process = process;
        this.dataDirectory = dataDirectory;
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
            throw new InvalidOperationException($"Azurite is not installed at {RepoPaths.Azurite}; run scripts/test.sh (it installs it with npm).");
        }

        var data = Directory.CreateTempSubdirectory("orchflow-azurite-").FullName;
        int blob = Ports.FreeLoopbackPort(), queue = Ports.FreeLoopbackPort(), table = Ports.FreeLoopbackPort();
        var process = ChildProcess.Start(RepoPaths.Azurite,
        [
            "--location", data, "--silent", "--skipApiVersionCheck", "--disableTelemetry", "--loose",
            "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(),
            "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(),
            "--tableHost", "127.0.0.1", "--tablePort", table.ToString(),
        ]);
        var azurite = new Azurite(process, data, blob, queue, table);
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

    public async ValueTask DisposeAsync()
    {
        await process.StopAsync(TimeSpan.FromSeconds(5));
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
}
