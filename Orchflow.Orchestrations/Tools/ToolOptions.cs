using Orchflow.Abstractions;

namespace Orchflow.Tools;

/// <summary>How tools are called (section <c>Orchflow:Tools</c>): the time a call and a connection may take, and which addresses they may reach.</summary>
public sealed class ToolOptions
{
    public const string Section = "Orchflow:Tools";

    /// <summary>How long one tool call may take, connecting included, before the model is told it timed out; at most <see cref="ToolLimits.CallTimeout"/>.</summary>
    public int CallTimeoutMs { get; set; } = (int)ToolLimits.CallTimeout.TotalMilliseconds;

    /// <summary>How long registering or refreshing a tool server may take to connect and list its tools, before it is refused.</summary>
    public int ConnectTimeoutMs { get; set; } = 15_000;

    /// <summary>
    /// Whether tool servers and <c>fetch_url</c> may reach loopback, private, link-local and CGNAT addresses (and tool
    /// servers plain http on loopback). Defaults to true in development only, so a server on the developer's machine
    /// works and a deployment's own network stays out of reach.
    /// </summary>
    public bool? AllowPrivateAddresses { get; set; }

    public TimeSpan CallTimeout => TimeSpan.FromMilliseconds(CallTimeoutMs);

    public TimeSpan ConnectTimeout => TimeSpan.FromMilliseconds(ConnectTimeoutMs);
}
