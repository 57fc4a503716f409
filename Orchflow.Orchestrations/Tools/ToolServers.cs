using Microsoft.Extensions.Options;
using Orchflow.Abstractions;

namespace Orchflow.Tools;

/// <summary>What asking a server for its tools came to: the tools Orchflow keeps, or why the server cannot be used.</summary>
public sealed record ToolServerProbe(IReadOnlyList<ToolServerTool> Tools, bool Truncated, string? Problem);

/// <summary>
/// Talks to tool servers on behalf of their registration: connects, lists their tools (initialize, tools/list) within
/// <see cref="ToolOptions.ConnectTimeout"/>, and reads the headers a server was registered with from the secret store.
/// </summary>
public sealed class ToolServers(McpConnector connector, McpSessions sessions, ISecretStore secrets, IOptions<ToolOptions> options)
{
    /// <summary>
    /// Connects to <paramref name="url"/> afresh and lists its tools. A server that cannot be reached, does not answer
    /// in time or does not answer as an MCP server comes back as <see cref="ToolServerProbe.Problem"/>, a sentence that
    /// starts with the URL; cancellation by the caller is thrown.
    /// </summary>
    public async Task<ToolServerProbe> ProbeAsync(string url, IReadOnlyDictionary<string, string> headers, CancellationToken cancellationToken)
    {
        var timeout = options.Value.ConnectTimeout;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await using var client = await connector.ConnectAsync(new Uri(url), headers, timeout, limit.Token);
            var (listed, more) = await McpConnector.ListToolsAsync(client, ToolLists.MaxTools, ToolLists.MaxPages, limit.Token);
            var (tools, truncated) = ToolLists.Keep(listed, more);
            return new ToolServerProbe(tools, truncated, null);
        }
        catch (Exception e) when (ToolFailures.Describe(e, $"'url' ({url})", timeout, cancellationToken) is { } failure)
        {
            return new ToolServerProbe([], false, failure.Message);
        }
    }

    /// <summary>The headers <paramref name="server"/> was registered with; none when it has no secret.</summary>
    public async Task<IReadOnlyDictionary<string, string>> HeadersAsync(ToolServerRecord server, CancellationToken cancellationToken)
    {
        if (server.SecretName is null)
        {
            return new Dictionary<string, string>();
        }

        return ToolServerHeaders.Deserialize(await secrets.GetAsync(server.SecretName, cancellationToken)
                                             ?? throw new InvalidOperationException($"The headers of tool server {server.ServerId} are missing from the secret store."));
    }

    /// <summary>Closes this process's session with the server: it was deleted, or its tools were listed again.</summary>
    public void Forget(string serverId) => sessions.Forget(serverId);
}
