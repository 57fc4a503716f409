namespace Orchflow;

/// <summary>Account defaults (section <c>Orchflow</c>).</summary>
public sealed class AccountOptions
{
    public const string Section = "Orchflow";

    /// <summary>Managed trial runs each new account gets.</summary>
    public int TrialRuns { get; set; } = 5;
}
