namespace Orchflow.Models;

/// <summary>The built-in offline model (section <c>Orchflow:Simulated</c>).</summary>
public sealed class SimulatedModelOptions
{
    public const string Section = "Orchflow:Simulated";

    /// <summary>Delay of each simulated model call, so a local run looks and paces like a real one.</summary>
    public int LatencyMs { get; set; } = 300;
}
