using Orchflow.Abstractions;

namespace Orchflow.Tools;

/// <summary>How tools are called (section <c>Orchflow:Tools</c>): the time a call and a connection may take. Which addresses they may reach is <see cref="Orchflow.Infrastructure.Network.AddressPolicy"/>'s.</summary>
public sealed class ToolOptions
{
    public const string Section = "Orchflow:Tools";

    /// <summary>How long one tool call may take, connecting included, before the model is told it timed out; at most <see cref="ToolLimits.CallTimeout"/>.</summary>
    public int CallTimeoutMs { get; set; } = (int)ToolLimits.CallTimeout.TotalMilliseconds;

    /// <summary>How long registering or refreshing a tool server may take to connect and list its tools, before it is refused.</summary>
    public int ConnectTimeoutMs { get; set; } = 15_000;

    public TimeSpan CallTimeout => TimeSpan.FromMilliseconds(CallTimeoutMs);

    public TimeSpan ConnectTimeout => TimeSpan.FromMilliseconds(ConnectTimeoutMs);
}
