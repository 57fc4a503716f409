namespace Orchflow.Erasure;

/// <summary>How long ended runs are kept, and how often erasures are looked for (section <c>Orchflow:Retention</c>).</summary>
public sealed class RetentionOptions
{
    public const string Section = "Orchflow:Retention";

    /// <summary>Ended runs (completed, failed, cancelled) older than this many days are erased; fractions of a day allowed.</summary>
    public double EndedRunDays { get; set; } = 30;

    /// <summary>How often the standalone host's sweep runs when nothing wakes it (the Functions app's timer runs every minute).</summary>
    public int SweepIntervalSeconds { get; set; } = 60;

    /// <summary>The most ended runs one sweep erases; the next sweep goes on with the rest.</summary>
    public int MaxRunsPerSweep { get; set; } = 500;

    public TimeSpan EndedRunAge => TimeSpan.FromDays(EndedRunDays);
}
