using Orchflow.Domain;

namespace Orchflow.Functions.Streaming;

/// <summary>What a run's live stream sends: an event of its log, or a piece of text a task is writing.</summary>
public sealed record StreamItem(RunLogEntry? Entry, OutputDelta? Delta)
{
    public static StreamItem Of(RunLogEntry entry) => new(entry, null);

    public static StreamItem Of(OutputDelta delta) => new(null, delta);
}

/// <summary>
/// A piece of the text a task (the synthesis: no task id) is writing: <paramref name="Offset"/> is the character position of
/// <paramref name="Text"/> in that text. Offset 0 again means the task started writing anew.
/// </summary>
public sealed record OutputDelta(string? TaskId, int Offset, string Text)
{
    public const string EventType = "task.output.delta";
}
