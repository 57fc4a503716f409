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

/// <summary>Account defaults (section <c>Orchflow</c>).</summary>
public sealed class AccountOptions
{
    public const string Section = "Orchflow";

    /// <summary>Managed trial runs each new account gets.</summary>
    public int TrialRuns { get; set; } = 5;
}
