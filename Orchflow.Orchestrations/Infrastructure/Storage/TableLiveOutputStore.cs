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
    const string End = "~~live~~~";

    public async Task WriteAsync(string runId, LiveText text, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var row = new TableEntity(runId, Prefix + (text.TaskId ?? Final))
        {
            ["Generation"] = text.Generation,
            ["Length"] = text.Text.Length,
            ["Done"] = text.Done,
        };
        TextChunks.SetProperty(row, "Text", text.Text);
        await tables.RunTasks.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<IReadOnlyList<LiveText>> ReadAsync(string runId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var texts = new List<LiveText>();
        await foreach (var row in tables.RunTasks.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {runId} and RowKey gt {Prefix} and RowKey lt {End}"),
                           cancellationToken: cancellationToken))
        {
            var key = row.RowKey[Prefix.Length..];
            texts.Add(new LiveText(key == Final ? null : key, row.GetString("Generation") ?? "", TextChunks.GetProperty(row, "Text") ?? "",
                row.GetBoolean("Done") ?? false));
        }

        return texts;
    }
}
