using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Live;

namespace Orchflow.Tests.Activities;

/// <summary>Live texts kept in memory, every save noted, for the unit tests of what writes them.</summary>
sealed class MemoryLiveOutputStore : ILiveOutputStore
{
    readonly Dictionary<(string RunId, string? TaskId), LiveText> rows = [];

    /// <summary>Every save, in order.</summary>
    public List<LiveText> Saves { get; } = [];

    /// <summary>Reads of a run's texts so far.</summary>
    public int Reads { get; private set; }

    /// <summary>Live outputs saved here, flushed every <paramref name="flushMs"/>.</summary>
    public LiveOutputs Outputs(int flushMs = 10) =>
        new(this, Options.Create(new LiveOutputOptions { FlushMs = flushMs }), NullLogger<LiveOutputs>.Instance);

    public Task WriteAsync(string runId, LiveText text, CancellationToken cancellationToken)
    {
        lock (rows)
        {
            Saves.Add(text);
            rows[(runId, text.TaskId)] = text;
        }

        return Task.CompletedTask;
    }

    public Task<LiveText?> ReadAsync(string runId, string? taskId, CancellationToken cancellationToken)
    {
        lock (rows)
        {
            Reads++;
            return Task.FromResult(rows.GetValueOrDefault((runId, taskId)));
        }
    }
}
