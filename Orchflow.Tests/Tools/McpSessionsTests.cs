using Orchflow.Infrastructure.Network;
using Orchflow.Tests.Models;
using Orchflow.Tests.Support;
using Orchflow.Tools;

namespace Orchflow.Tests.Tools;

/// <summary>
/// The sessions a process keeps with tool servers: one handshake for many calls, a fresh one after the idle time or a
/// forget, and a session the server lost (it restarted) opened again for the call that found it gone.
/// </summary>
[TestFixture]
public sealed class McpSessionsTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    static readonly Dictionary<string, string> NoHeaders = [];

    [Test]
    public async Task UseAsync_ManyCalls_OneHandshakeUntilIdleOrForgotten()
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        using var http = new ToolHttp(AddressPolicy.Loopback());
        await using var sessions = new McpSessions(new McpConnector(http), clock);
        var url = new Uri(server.Url);
        Task Call() => sessions.UseAsync("mcs_sessions00000000000", url, NoHeaders, Timeout,
            client => client.CallToolAsync("lookup", new Dictionary<string, object?> { ["q"] = "x" }).AsTask(), CancellationToken.None);
        int Handshakes() => server.Methods.Count(m => m == "initialize");

        await Call();
        await Call();
        await Call();
        var reused = Handshakes();
        clock.Advance(McpSessions.IdleTime + TimeSpan.FromSeconds(1));
        await Call();
        var afterIdle = Handshakes();
        sessions.Forget("mcs_sessions00000000000");
        await Call();

        Assert.Multiple(() =>
        {
            Assert.That(reused, Is.EqualTo(1), "three calls, one session");
            Assert.That(afterIdle, Is.EqualTo(2), "an idle session is closed and the next call opens one");
            Assert.That(Handshakes(), Is.EqualTo(3), "a forgotten session is closed and the next call opens one");
            Assert.That(server.Methods.Count(m => m == "tools/call"), Is.EqualTo(5));
        });
    }

    [Test]
    public async Task UseAsync_ServerRestartedBetweenCalls_SessionOpenedAgainAndTheCallAnswered()
    {
        var everything = await McpEverything.StartAsync();
        using var http = new ToolHttp(AddressPolicy.Loopback());
        await using var sessions = new McpSessions(new McpConnector(http), TimeProvider.System);
        var url = new Uri(everything.Url);
        Task<string> Echo(string message) => sessions.UseAsync("mcs_restarted0000000000", url, NoHeaders, Timeout,
            async client => ToolResults.Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = message })),
            CancellationToken.None);

        var before = await Echo("before");
        var port = everything.Port;
        await everything.DisposeAsync();
        everything = await McpEverything.StartAsync(port);
        try
        {
            var after = await Echo("after");

            Assert.Multiple(() =>
            {
                Assert.That(before, Is.EqualTo("Echo: before"));
                Assert.That(after, Is.EqualTo("Echo: after"), "the restarted server no longer knows the session");
            });
        }
        finally
        {
            await everything.DisposeAsync();
        }
    }
}
