namespace Orchflow;

/// <summary>How much of the service one account may hold at once (section <c>Orchflow:Accounts</c>).</summary>
public sealed class AccountLimitOptions
{
    public const string Section = "Orchflow:Accounts";

    /// <summary>
    /// Runs one account may have going at once: from its start (or retry) until it completes, fails or is cancelled.
    /// A start beyond it is refused until one ends.
    /// </summary>
    public int MaxActiveRuns { get; set; } = 100;
}
