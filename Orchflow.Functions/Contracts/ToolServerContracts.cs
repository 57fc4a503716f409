using System.Text.Json;
using Orchflow.Abstractions;

namespace Orchflow.Functions.Contracts;

// Tool server requests and responses. Header values are secrets: a request carries them, no response ever does.

public sealed record CreateToolServerRequest(string? Url, string? Label, Dictionary<string, string?>? Headers);

/// <summary>A tool as its server listed it, named as the server names it; runs name it <c>&lt;server_id&gt;/&lt;name&gt;</c>.</summary>
public sealed record ToolServerToolView(string Name, string Description, JsonElement InputSchema)
{
    public static ToolServerToolView Of(ToolServerTool t)
    {
        using var schema = JsonDocument.Parse(t.InputSchemaJson);
        return new ToolServerToolView(t.Name, t.Description, schema.RootElement.Clone());
    }
}

public sealed record ToolServerView(
    string ServerId,
    string Url,
    string Label,
    IReadOnlyList<string> HeaderNames,
    IReadOnlyList<ToolServerToolView> Tools,
    bool ToolsTruncated,
    DateTimeOffset CreatedAt,
    DateTimeOffset RefreshedAt)
{
    public static ToolServerView Of(ToolServerRecord s) => new(
        s.ServerId, s.Url, s.Label, s.HeaderNames, s.Tools.Select(ToolServerToolView.Of).ToList(), s.ToolsTruncated, s.CreatedAt, s.RefreshedAt);
}

public sealed record ToolServerListView(IReadOnlyList<ToolServerView> ToolServers);
