using System.Text.Json;
using ModelContextProtocol.Protocol;
using Orchflow.Abstractions;

namespace Orchflow.Tools;

/// <summary>
/// Which of the tools a server lists Orchflow keeps, so that one server cannot fill a row, a prompt or a model's
/// function list: at most <see cref="MaxTools"/>, each with a name runs can write, a description of at most
/// <see cref="MaxDescriptionChars"/> and an object schema of at most <see cref="MaxSchemaChars"/>, all of them in at
/// most <see cref="MaxListChars"/>. What is left out makes the list <c>truncated</c>.
/// </summary>
public static class ToolLists
{
    public const int MaxTools = 128;

    /// <summary>The pages of tools/list read at most, so a server that pages for ever is read for a bounded time.</summary>
    public const int MaxPages = 20;

    /// <summary>MCP's tool names: 1 to 128 of letters, digits, '_', '-' and '.'.</summary>
    public const int MaxNameLength = 128;

    public const int MaxDescriptionChars = 2_000;

    public const int MaxSchemaChars = 16 * 1024;

    /// <summary>The list as stored, escaped as JSON, well inside one table row (1 MiB of UTF-16).</summary>
    public const int MaxListChars = 200_000;

    public static (IReadOnlyList<ToolServerTool> Tools, bool Truncated) Keep(IEnumerable<Tool> listed, bool more)
    {
        var kept = new List<ToolServerTool>();
        var truncated = more;
        var size = 0;
        foreach (var tool in listed)
        {
            if (kept.Count == MaxTools)
            {
                truncated = true;
                break;
            }

            var schema = tool.InputSchema.ValueKind == JsonValueKind.Object ? tool.InputSchema.GetRawText() : null;
            if (!IsName(tool.Name) || kept.Any(k => k.Name == tool.Name) || schema is null || schema.Length > MaxSchemaChars)
            {
                truncated = true;
                continue;
            }

            var description = tool.Description ?? tool.Title ?? "";
            var entry = new ToolServerTool(tool.Name, description.Length > MaxDescriptionChars ? description[..MaxDescriptionChars] : description, schema);
            size += entry.Name.Length + entry.Description.Length + entry.InputSchemaJson.Length;
            if (size > MaxListChars)
            {
                truncated = true;
                break;
            }

            kept.Add(entry);
        }

        return (kept, truncated);
    }

    public static bool IsName(string? name) =>
        name is { Length: > 0 and <= MaxNameLength } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');
}
