using System.Text.RegularExpressions;

namespace Orchflow.Models;

/// <summary>
/// Tool names as a model's function calling allows them (letters, digits, '_' and '-', at most 64), and back:
/// <c>mcs_4f…/search</c> is offered as <c>mcs_4f…__search</c>, and a name too long or taken is numbered.
/// </summary>
public sealed partial class ModelToolNames
{
    readonly Dictionary<string, string> byModelName = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> byTool = new(StringComparer.Ordinal);

    public ModelToolNames(IEnumerable<string> tools)
    {
        foreach (var tool in tools)
        {
            if (byTool.ContainsKey(tool))
            {
                // Named once: a tool offered and also called before keeps the one name in every turn of the loop.
                continue;
            }

            var name = Unsafe().Replace(tool.Replace("/", "__", StringComparison.Ordinal), "_");
            name = name.Length > 64 ? name[..60] : name;
            for (var n = 2; byModelName.ContainsKey(name); n++)
            {
                name = $"{name[..Math.Min(name.Length, 60)]}_{n}";
            }

            byModelName[name] = tool;
            byTool[tool] = name;
        }
    }

    /// <summary>The name the model is offered for <paramref name="tool"/>.</summary>
    public string ForModel(string tool) => byTool.TryGetValue(tool, out var name) ? name : tool;

    /// <summary>The tool a model's name stands for; a name it was never offered comes back as it is (the call fails as not offered).</summary>
    public string ToTool(string modelName) => byModelName.TryGetValue(modelName, out var tool) ? tool : modelName;

    [GeneratedRegex("[^A-Za-z0-9_-]")]
    private static partial Regex Unsafe();
}
