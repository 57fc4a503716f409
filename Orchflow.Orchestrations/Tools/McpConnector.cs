using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Orchflow.Tools;

/// <summary>
/// Opens MCP sessions with the official SDK's client over Streamable HTTP, on <see cref="ToolHttp.Mcp"/>, with a
/// server's own headers. One place, so that registration, calls and the conformance client connect alike.
/// </summary>
public sealed class McpConnector(ToolHttp http)
{
    static readonly Implementation Client = new() { Name = "Orchflow", Version = "1.0" };

    /// <summary>
    /// The handshakes tried in turn: the SDK's own negotiation first (the newest revision, falling back to initialize),
    /// then initialize at each revision that has Streamable HTTP. The later ones serve servers that answer the newest
    /// revision's probe with something the SDK cannot read, or that only speak an older revision: the SDK holds a
    /// pinned version as the least it accepts, so a server's older answer needs that version asked for.
    /// </summary>
    static readonly string?[] Handshakes = [null, "2025-11-25", "2025-06-18", "2025-03-26"];

    /// <summary>
    /// A connected client. A handshake the server does not take is followed by the next; anything else (a refused
    /// address, no answer in time, an HTTP error, an answer that is not MCP) ends the attempt with its exception.
    /// </summary>
    public async Task<McpClient> ConnectAsync(Uri url, IReadOnlyDictionary<string, string> headers, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Exception? refused = null;
        foreach (var version in Handshakes)
        {
            var transport = new HttpClientTransport(
                new HttpClientTransportOptions
                {
                    Endpoint = url,
                    TransportMode = HttpTransportMode.StreamableHttp,
                    AdditionalHeaders = headers.ToDictionary(),
                    // Orchflow only asks; it listens for nothing the server might push on its own.
                    EnableStandaloneGetStream = false,
                    ConnectionTimeout = timeout,
                    MaxReconnectionAttempts = 3,
                },
                http.Mcp,
                loggerFactory: null,
                ownsHttpClient: false);
            try
            {
                return await McpClient.CreateAsync(
                    transport,
                    new McpClientOptions { ClientInfo = Client, ProtocolVersion = version, InitializationTimeout = timeout },
                    loggerFactory: null,
                    cancellationToken);
            }
            catch (Exception e) when (IsHandshakeRefusal(e))
            {
                refused = e;
            }
        }

        throw refused!;
    }

    /// <summary>
    /// The tools a server lists, page by page, stopping after <paramref name="most"/> + 1 tools or
    /// <paramref name="maxPages"/> pages, so a server that pages for ever is read for a bounded time.
    /// </summary>
    public static async Task<(IReadOnlyList<Tool> Tools, bool More)> ListToolsAsync(McpClient client, int most, int maxPages, CancellationToken cancellationToken)
    {
        var tools = new List<Tool>();
        string? cursor = null;
        for (var page = 0; page < maxPages; page++)
        {
            var result = await client.ListToolsAsync(new ListToolsRequestParams { Cursor = cursor }, cancellationToken);
            tools.AddRange(result.Tools);
            cursor = result.NextCursor;
            if (cursor is null || tools.Count > most)
            {
                return (tools, cursor is not null || tools.Count > most);
            }
        }

        return (tools, true);
    }

    /// <summary>The server speaks, but not in this handshake: another may do.</summary>
    static bool IsHandshakeRefusal(Exception e) =>
        e is McpException or JsonException && !ToolFailures.Chain(e).Any(x => x is HttpRequestException or ToolServerAnswerException or OperationCanceledException or TimeoutException);
}
