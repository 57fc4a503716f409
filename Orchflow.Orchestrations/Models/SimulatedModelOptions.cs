namespace Orchflow.Models;

/// <summary>The built-in offline model (section <c>Orchflow:Simulated</c>).</summary>
public sealed class SimulatedModelOptions
{
    public const string Section = "Orchflow:Simulated";

    /// <summary>Delay of each simulated model call, so a local run looks and paces like a real one.</summary>
    public int LatencyMs { get; set; } = 300;

    /// <summary>
    /// For size and load tests: each agent output is padded with marked filler to at least this many characters.
    /// 0 (the default) leaves outputs at their natural size; the synthesis is never padded.
    /// </summary>
    public int OutputChars { get; set; }
}
