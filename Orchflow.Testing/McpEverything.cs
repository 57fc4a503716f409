namespace Orchflow.Testing;

/// <summary>
/// The MCP reference server (npm <c>@modelcontextprotocol/server-everything</c>, installed by the scripts into
/// tools/) over Streamable HTTP on a free loopback port: a real MCP server no one here wrote. Stopped by its PID on dispose.
/// </summary>
public sealed class McpEverything : IAsyncDisposable
{
    readonly ChildProcess process;

    McpEverything(ChildProcess process, int port)
    {
        this.process = process;
        Url = $"http://127.0.0.1:{port}/mcp";
        Port = port;
    }

    public int Port { get; }

    public string Url { get; }

    public static string Script => Path.Combine(RepoPaths.NodeModules, "@modelcontextprotocol", "server-everything", "dist", "index.js");

    /// <summary>Starts the server on <paramref name="port"/>, or on a free port.</summary>
    public static async Task<McpEverything> StartAsync(int? port = null)
    {
        if (!File.Exists(Script))
        {
            throw new InvalidOperationException($"server-everything is not installed at {Script}; run scripts/test.sh (it installs it with npm).");
        }

        var listen = port ?? Ports.FreeLoopbackPort();
        var process = ChildProcess.Start("node", [Script, "streamableHttp"], new Dictionary<string, string> { ["PORT"] = listen.ToString() });
        var server = new McpEverything(process, listen);
        try
        {
            await Ports.WaitUntilOpenAsync(listen, TimeSpan.FromSeconds(30));
        }
        catch
        {
            var output = process.Output;
            await server.DisposeAsync();
            throw new InvalidOperationException($"server-everything did not listen on {listen}:\n{output}");
        }

        return server;
    }

    public string Output => process.Output;

    public async ValueTask DisposeAsync()
    {
        await process.StopAsync(TimeSpan.FromSeconds(5));
        process.Dispose();
    }
}
