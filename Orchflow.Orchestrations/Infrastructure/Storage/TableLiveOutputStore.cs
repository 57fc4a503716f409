using Azure.Data.Tables;
using Orchflow.Abstractions;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// Live texts as rows of their run's partition (<c>~~live~T2</c>, <c>~~live~~final</c> for the synthesis), after every
/// row a read of the run reads and before its log, so neither of those reads ever carries them. Each write replaces the
/// row with the text so far.
/// </summary>
public sealed class TableLiveOutputStore(OrchflowTables tables) : ILiveOutputStore
{
    const string Prefix = "~~live~";
    const string Final = "~final";

    public async Task WriteAsync(string runId, LiveText text, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var row = new TableEntity(runId, Key(text.TaskId))
        {
            ["Generation"] = text.Generation,
            ["Length"] = text.Text.Length,
            ["Done"] = text.Done,
        };
        TextChunks.SetProperty(row, "Text", text.Text);
        await tables.RunTasks.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<LiveText?> ReadAsync(string runId, string? taskId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var found = await tables.RunTasks.GetEntityIfExistsAsync<TableEntity>(runId, Key(taskId), cancellationToken: cancellationToken);
        return found.HasValue && found.Value is { } row
            ? new LiveText(taskId, row.GetString("Generation") ?? "", TextChunks.GetProperty(row, "Text") ?? "", row.GetBoolean("Done") ?? false)
            : null;
    }

    static string Key(string? taskId) => Prefix + (taskId ?? Final);
}
