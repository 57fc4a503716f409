namespace Orchflow.Domain;

/// <summary>Tokens a model read and wrote, as its provider reported them.</summary>
public sealed record TokenUsage(long InputTokens, long OutputTokens)
{
    public static readonly TokenUsage Zero = new(0, 0);

    public static TokenUsage operator +(TokenUsage a, TokenUsage b) =>
        new(a.InputTokens + b.InputTokens, a.OutputTokens + b.OutputTokens);
}
