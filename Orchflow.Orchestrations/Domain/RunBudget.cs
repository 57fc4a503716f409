namespace Orchflow.Domain;

/// <summary>
/// What a run may spend in all: tokens, model calls' input and output together, and tool calls. A limit left out does
/// not bound the run. Checked before each model and tool call; a call the run has no budget left for is not made.
/// </summary>
public sealed record RunBudget(long? MaxTokens = null, int? MaxToolCalls = null)
{
    public static readonly RunBudget None = new();

    /// <summary>The run has used every token its budget allows: no more model calls.</summary>
    public bool TokensSpent(TokenUsage used) => MaxTokens is { } max && used.InputTokens + used.OutputTokens >= max;

    /// <summary>The run has made every tool call its budget allows.</summary>
    public bool ToolCallsSpent(int made) => MaxToolCalls is { } max && made >= max;

    /// <summary>Tool calls the tasks have made or are making, as a budget counts them: refused ones are not made.</summary>
    public static int CallsMade(IEnumerable<TaskRecord> tasks) => tasks.Sum(t => t.ToolCalls.Count(c => c.State != ToolCallState.Rejected));

    /// <summary>This budget with the limits <paramref name="raise"/> gives in place of its own.</summary>
    public RunBudget With(RunBudget raise) => new(raise.MaxTokens ?? MaxTokens, raise.MaxToolCalls ?? MaxToolCalls);

    /// <summary>
    /// The budget of a managed (trial) run's first attempt: what was asked, its tokens never more than
    /// <paramref name="trialTokens"/>.
    /// </summary>
    public static RunBudget ForTrial(RunBudget? asked, long trialTokens) =>
        (asked ?? None) with { MaxTokens = Math.Min(asked?.MaxTokens ?? long.MaxValue, trialTokens) };

    /// <summary>The most tokens a managed run's budget may allow by its attempt <paramref name="attempt"/> (0 the first).</summary>
    public static long TrialCeiling(int attempt, long trialTokens) => trialTokens * (attempt + 1);
}
