using ModelContextProtocol;
using ModelContextProtocol.Client;
using Orchflow.Abstractions;

namespace Orchflow.Tools;

/// <summary>
/// The MCP sessions this process keeps open to tool servers, one per server, so a call costs one request rather than
/// a handshake and a request. At most <see cref="MaxSessions"/>, each closed after <see cref="IdleTime"/> unused, when
/// its server is deleted or refreshed here, or when a call finds it ended.
/// </summary>
public sealed class McpSessions(McpConnector connector, TimeProvider clock) : IAsyncDisposable
{
    public const int MaxSessions = 64;
    public static readonly TimeSpan IdleTime = TimeSpan.FromMinutes(2);

    readonly Lock gate = new();
    readonly Dictionary<string, Session> sessions = new(StringComparer.Ordinal);

    /// <summary>One server's session as it is being opened or was opened, and when a call last used it.</summary>
    sealed class Session(string url, Task<McpClient> client)
    {
        public string Url { get; } = url;

        public Task<McpClient> Client { get; } = client;

        public long LastUsed { get; set; }
    }

    /// <summary>
    /// Calls <paramref name="use"/> with the server's session, opening one if none is open. When a session this
    /// process had open is found gone at the server (it restarted, or forgot it), it is opened anew and the call made
    /// once more: the server said it had no such session, so it did not run the call.
    /// </summary>
    public async Task<T> UseAsync<T>(
        string serverId, Uri url, IReadOnlyDictionary<string, string> headers, TimeSpan timeout,
        Func<McpClient, Task<T>> use, CancellationToken cancellationToken)
    {
        var (session, reused) = Open(serverId, url, headers, timeout);
        try
        {
            return await use(await session.Client.WaitAsync(cancellationToken));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // An error the server answered in JSON-RPC leaves the session as good as it was; anything else may not.
            var lost = IsLostSession(e);
            if (lost || e is not McpProtocolException)
            {
                Close(serverId, session);
            }

            if (!reused || !lost)
            {
                throw;
            }
        }

        var (fresh, _) = Open(serverId, url, headers, timeout);
        try
        {
            return await use(await fresh.Client.WaitAsync(cancellationToken));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not McpProtocolException)
        {
            Close(serverId, fresh);
            throw;
        }
    }

    /// <summary>Closes the server's session, if one is open: it was deleted or refreshed.</summary>
    public void Forget(string serverId)
    {
        lock (gate)
        {
            if (sessions.Remove(serverId, out var session))
            {
                _ = CloseAsync(session, ToolLimits.CallTimeout);
            }
        }
    }

    (Session Session, bool Reused) Open(string serverId, Uri url, IReadOnlyDictionary<string, string> headers, TimeSpan timeout)
    {
        var now = clock.GetTimestamp();
        lock (gate)
        {
            Sweep(now);
            if (sessions.TryGetValue(serverId, out var open) && open.Url == url.AbsoluteUri && !open.Client.IsFaulted && !open.Client.IsCanceled &&
                !(open.Client.IsCompletedSuccessfully && open.Client.Result.Completion.IsCompleted))
            {
                open.LastUsed = now;
                return (open, open.Client.IsCompletedSuccessfully);
            }

            if (open is not null)
            {
                sessions.Remove(serverId);
                _ = CloseAsync(open, ToolLimits.CallTimeout);
            }

            // Opened apart from any one caller's token (callers that share it each wait for it within their own), and
            // off this lock: the connection is made after it is released.
            var session = new Session(url.AbsoluteUri, Task.Run(() => ConnectAsync(url, headers, timeout))) { LastUsed = now };
            sessions[serverId] = session;
            return (session, false);
        }
    }

    async Task<McpClient> ConnectAsync(Uri url, IReadOnlyDictionary<string, string> headers, TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        return await connector.ConnectAsync(url, headers, timeout, limit.Token);
    }

    /// <summary>Closes sessions unused for <see cref="IdleTime"/>, and the least recently used past <see cref="MaxSessions"/>.</summary>
    void Sweep(long now)
    {
        var idle = sessions.Where(s => clock.GetElapsedTime(s.Value.LastUsed, now) > IdleTime)
            .Concat(sessions.OrderByDescending(s => s.Value.LastUsed).Skip(MaxSessions - 1))
            .DistinctBy(s => s.Key)
            .ToList();
        foreach (var (serverId, session) in idle)
        {
            sessions.Remove(serverId);
            _ = CloseAsync(session, ToolLimits.CallTimeout);
        }
    }

    void Close(string serverId, Session session)
    {
        lock (gate)
        {
            if (sessions.TryGetValue(serverId, out var current) && current == session)
            {
                sessions.Remove(serverId);
            }
        }

        _ = CloseAsync(session, ToolLimits.CallTimeout);
    }

    /// <summary>
    /// Ends a session (the SDK tells the server with a DELETE) once it is open; a server that is gone or slow is not
    /// waited for long, and one still connecting after <paramref name="connecting"/> is left to its own timeout.
    /// </summary>
    static async Task CloseAsync(Session session, TimeSpan connecting)
    {
        try
        {
            var client = await session.Client.WaitAsync(connecting);
            await client.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // A session that never opened, or a server that does not answer its end: nothing is left to close here.
        }
    }

    /// <summary>
    /// The server no longer knows the session: 404 is the protocol's word for it; servers built on the TypeScript SDK
    /// answer 400 with an error that names the session id.
    /// </summary>
    static bool IsLostSession(Exception e) =>
        ToolFailures.Chain(e).Any(x =>
            x is HttpRequestException { StatusCode: System.Net.HttpStatusCode.NotFound } ||
            (x is McpProtocolException && x.Message.Contains("session", StringComparison.OrdinalIgnoreCase)));

    public async ValueTask DisposeAsync()
    {
        List<Session> open;
        lock (gate)
        {
            open = sessions.Values.ToList();
            sessions.Clear();
        }

        // A process stopping does not wait for connections still being made.
        await Task.WhenAll(open.Select(s => CloseAsync(s, TimeSpan.Zero)));
    }
}
