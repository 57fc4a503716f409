namespace Orchflow.Functions.Mcp;

/// <summary>Orchflow as an MCP server at <c>/mcp</c> (section <c>Orchflow:Mcp</c>).</summary>
public sealed class McpOptions
{
    public const string Section = "Orchflow:Mcp";

    /// <summary>How often a client following a run as an MCP task is asked to poll it (the task's <c>pollInterval</c>).</summary>
    public int PollIntervalMs { get; set; } = 1000;

    /// <summary>
    /// Development only: an API key that requests to <c>/mcp</c> from this machine, naming loopback as their host and
    /// carrying no key of their own, are served with. For MCP clients that cannot send a header, such as the MCP
    /// conformance suite's runner; a host outside Development refuses to start with it.
    /// </summary>
    public string? LoopbackApiKey { get; set; }

    /// <summary>Set from the host's environment, not from settings.</summary>
    internal bool IsDevelopment { get; set; }
}
