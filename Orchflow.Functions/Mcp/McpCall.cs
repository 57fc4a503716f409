using Microsoft.DurableTask.Client;

namespace Orchflow.Functions.Mcp;

/// <summary>
/// Who an MCP request is served for, and the durable client its changes reach runs through: set by the <c>/mcp</c>
/// function for the SDK's handling of that one request (tools, task reads, input responses, cancels), which runs in the
/// request's flow in either host. <see cref="Services"/> are the request's.
/// </summary>
public sealed record McpCall(string AccountId, DurableTaskClient Durable, IServiceProvider Services)
{
    static readonly AsyncLocal<McpCall?> Ambient = new();

    /// <summary>The request being served; an MCP handler reached outside <c>/mcp</c> is a bug.</summary>
    public static McpCall Current => Ambient.Value ?? throw new InvalidOperationException("An MCP handler ran outside a request to /mcp.");

    /// <summary>Serves the rest of this flow (the SDK's handling of the request) for <paramref name="call"/>.</summary>
    internal static void Enter(McpCall call) => Ambient.Value = call;
}
