namespace Orchflow.Live;

/// <summary>How the text agents write reaches live streams (section <c>Orchflow:Live</c>).</summary>
public sealed class LiveOutputOptions
{
    public const string Section = "Orchflow:Live";

    /// <summary>How often a text being written is saved to storage for other instances' streams (this instance's see it at once).</summary>
    public int FlushMs { get; set; } = 100;

    /// <summary>The most of one text kept live; past it, the rest is read from the task's output when it is done.</summary>
    public int MaxChars { get; set; } = 200_000;
}
