using System.Text.Encodings.Web;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Orchflow.Abstractions;

namespace Orchflow.Infrastructure.Storage;

/// <summary>
/// Tool servers on Table Storage, one partition per account counted by its guard row (<see cref="CountedPartition"/>), one row per server with its tool list on the row (in as
/// many properties as it needs), so a server and its tools are read and replaced as one.
/// </summary>
public sealed class TableToolServerStore(OrchflowTables tables) : IToolServerStore
{
    /// <summary>Descriptions in any script stay one character each, not a six-character escape.</summary>
    static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public async Task<bool> TryCreateAsync(ToolServerRecord server, int maxPerAccount, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        return (await Counted(server.AccountId).TryAddAsync(ToEntity(server), maxPerAccount, cancellationToken)).Added;
    }

    public async Task<ToolServerRecord?> GetAsync(string accountId, string serverId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        if (!CountedPartition.IsItemKey(serverId))
        {
            return null;
        }

        var row = await tables.ToolServers.GetEntityIfExistsAsync<TableEntity>(accountId, serverId, cancellationToken: cancellationToken);
        return row.HasValue && row.Value is not null ? ToServer(row.Value) : null;
    }

    public async Task<IReadOnlyList<ToolServerRecord>> ListAsync(string accountId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        var servers = (await Counted(accountId).ItemsAsync(cancellationToken)).Select(ToServer);
        return servers.OrderBy(s => s.CreatedAt).ThenBy(s => s.ServerId, StringComparer.Ordinal).ToList();
    }

    public async Task<bool> TryReplaceAsync(ToolServerRecord server, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        try
        {
            await tables.ToolServers.UpdateEntityAsync(ToEntity(server), new ETag(server.ETag!), TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
    }

    public async Task<bool> DeleteAsync(string accountId, string serverId, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync();
        return await Counted(accountId).DeleteAsync(serverId, null, cancellationToken);
    }

    /// <summary>The account's servers, counted so that concurrent registrations never pass the cap together.</summary>
    CountedPartition Counted(string accountId) => new(tables.ToolServers, accountId);

    static TableEntity ToEntity(ToolServerRecord s)
    {
        var row = new TableEntity(s.AccountId, s.ServerId)
        {
            ["Url"] = s.Url,
            ["Label"] = s.Label,
            ["HeaderNames"] = JsonSerializer.Serialize(s.HeaderNames, Json),
            ["SecretName"] = s.SecretName,
            ["ToolsTruncated"] = s.ToolsTruncated,
            ["CreatedAt"] = s.CreatedAt,
            ["RefreshedAt"] = s.RefreshedAt,
        };
        TextChunks.SetProperty(row, "Tools", JsonSerializer.Serialize(s.Tools, Json));
        return row;
    }

    static ToolServerRecord ToServer(TableEntity e) => new(
        e.PartitionKey,
        e.RowKey,
        e.GetString("Url") ?? "",
        e.GetString("Label") ?? "",
        JsonSerializer.Deserialize<List<string>>(e.GetString("HeaderNames") ?? "[]", Json) ?? [],
        e.GetString("SecretName"),
        JsonSerializer.Deserialize<List<ToolServerTool>>(TextChunks.GetProperty(e, "Tools") ?? "[]", Json) ?? [],
        e.GetBoolean("ToolsTruncated") ?? false,
        e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        e.GetDateTimeOffset("RefreshedAt") ?? e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        e.ETag.ToString());
}
