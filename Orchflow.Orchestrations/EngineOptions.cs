namespace Orchflow;

/// <summary>Engine limits (section <c>Orchflow:Engine</c>).</summary>
public sealed class EngineOptions
{
    public const string Section = "Orchflow:Engine";

    /// <summary>Agent tasks of one run that may run at once.</summary>
    public int MaxParallelTasks { get; set; } = 8;

    /// <summary>How often a human may send one draft back before the task fails.</summary>
    public int MaxReviewRounds { get; set; } = 3;

    /// <summary>Characters of inputs (human answers, dependencies' outputs) one agent task is given; goal and instructions are not counted.</summary>
    public int ContextBudgetChars { get; set; } = 24_000;
}
