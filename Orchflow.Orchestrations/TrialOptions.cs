namespace Orchflow;

/// <summary>What the managed (trial) runs of an account may spend (section <c>Orchflow:Accounts</c>).</summary>
public sealed class TrialOptions
{
    public const string Section = "Orchflow:Accounts";

    /// <summary>
    /// Tokens one attempt of a managed run may spend: a managed run's budget never allows more, and each retry of one
    /// (which takes a trial run of its own) allows this many more. With <see cref="AccountOptions.TrialRuns"/>, what an
    /// account's managed runs can spend in all is bounded.
    /// </summary>
    public long TrialTokens { get; set; } = 200_000;
}
