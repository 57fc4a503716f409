using System.Globalization;
using System.Text;
using System.Text.Json;
using ModelContextProtocol.Protocol;
using Orchflow.Abstractions;

namespace Orchflow.Tools;

/// <summary>A tool's answer as the text a model is given: MCP content blocks written out, and every result cut to <see cref="ToolLimits.MaxResultChars"/>.</summary>
public static class ToolResults
{
    /// <summary>The text of an MCP tool's result: its text blocks, its other blocks named, or its structured content as JSON.</summary>
    public static string Text(CallToolResult result)
    {
        var text = new StringBuilder();
        foreach (var block in result.Content ?? [])
        {
            if (text.Length > 0)
            {
                text.Append('\n');
            }

            text.Append(block switch
            {
                TextContentBlock t => t.Text,
                ImageContentBlock i => $"[an image, {i.MimeType}]",
                AudioContentBlock a => $"[audio, {a.MimeType}]",
                EmbeddedResourceBlock { Resource: TextResourceContents r } => $"[resource {r.Uri}]\n{r.Text}",
                EmbeddedResourceBlock e => $"[resource {e.Resource.Uri}, {e.Resource.MimeType ?? "binary"}]",
                ResourceLinkBlock l => $"[link: {l.Name} {l.Uri}]",
                _ => $"[content of type {block.Type}]",
            });
        }

        if (text.Length == 0 && result.StructuredContent is { ValueKind: not (JsonValueKind.Undefined or JsonValueKind.Null) } structured)
        {
            text.Append(structured.GetRawText());
        }

        return text.Length == 0 ? "(The tool answered with no content.)" : text.ToString();
    }

    /// <summary>
    /// <paramref name="text"/> as it may reach a model: whole when it fits <see cref="ToolLimits.MaxResultChars"/>,
    /// else its start with a last line that says it was cut and from how much, all within the limit.
    /// </summary>
    public static string Cut(string text)
    {
        if (text.Length <= ToolLimits.MaxResultChars)
        {
            return text;
        }

        string Note(int shown) => string.Create(CultureInfo.InvariantCulture,
            $"\n[Cut by Orchflow: the result had {text.Length:N0} characters; the first {shown:N0} are shown.]");

        // The note's own length depends on the count it gives, which stays five digits either way.
        var keep = ToolLimits.MaxResultChars - Note(ToolLimits.MaxResultChars).Length;
        if (char.IsHighSurrogate(text[keep - 1]))
        {
            keep--;
        }

        return text[..keep] + Note(keep);
    }

    /// <summary>The arguments of a call as the SDK takes them; null when <paramref name="json"/> is not a JSON object.</summary>
    public static Dictionary<string, object?>? Arguments(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone())
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
