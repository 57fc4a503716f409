namespace Orchflow.Tests.Integration.Engine;

/// <summary>
/// The host the engine fixtures share (one after another, so one host serves them all): simulated model calls of
/// 300 ms, so overlaps, waits and redone drafts are wide enough to be seen by polling, and a draft may be sent back
/// once.
/// </summary>
static class PacedHost
{
    public const int MaxReviewRounds = 1;

    public static IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
    {
        ["Orchflow__Simulated__LatencyMs"] = "300",
        ["Orchflow__Engine__MaxReviewRounds"] = MaxReviewRounds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
