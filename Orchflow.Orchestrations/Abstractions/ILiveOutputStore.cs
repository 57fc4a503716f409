namespace Orchflow.Abstractions;

/// <summary>
/// Where the text an agent task or the synthesis is writing is kept while it writes, so that live streams on other
/// instances can follow it: one row per task of the run, rewritten as the text grows.
/// </summary>
public interface ILiveOutputStore
{
    Task WriteAsync(string runId, LiveText text, CancellationToken cancellationToken);

    /// <summary>The text of one task (the synthesis's: <paramref name="taskId"/> null) as last saved, by one point read; null when none was.</summary>
    Task<LiveText?> ReadAsync(string runId, string? taskId, CancellationToken cancellationToken);
}

/// <summary>
/// The text one writer of a task has written so far. <paramref name="TaskId"/> is null for the synthesis.
/// <paramref name="Generation"/> names the writing: a task written again (a redo, a retry, a worker that died) starts a
/// new one, from offset 0. <paramref name="Done"/>: the writer has finished.
/// </summary>
public sealed record LiveText(string? TaskId, string Generation, string Text, bool Done);

/// <summary>Takes the text a model writes as it writes it.</summary>
public interface ITextSink
{
    void Append(string text);

    /// <summary>What was written so far is void (a model call retried from the start): the text starts again.</summary>
    void Restart();
}
