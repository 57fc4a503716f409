using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Orchflow.Prompts;

/// <summary>
/// The prompts Orchflow sends to models, kept as Markdown files beside this class (embedded in the build) so
/// they read and change as text. Placeholders are <c>{{name}}</c>; rendering fails loudly on a missing value.
/// </summary>
public static partial class PromptTemplates
{
    static readonly ConcurrentDictionary<string, string> Cache = new();

    public static string Load(string name) => Cache.GetOrAdd(name, static n =>
    {
        var resource = "Orchflow.Prompts." + n.Replace('/', '.');
        using var stream = typeof(PromptTemplates).Assembly.GetManifestResourceStream(resource)
                           ?? throw new InvalidOperationException($"Prompt template '{n}' is not embedded (resource {resource}).");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Trim();
    });

    public static string Render(string name, IReadOnlyDictionary<string, string> values) =>
        Placeholder().Replace(Load(name), m => values.TryGetValue(m.Groups[1].Value, out var value)
            ? value
            : throw new InvalidOperationException($"Prompt template '{name}' needs a value for '{m.Groups[1].Value}'."));

    [GeneratedRegex(@"\{\{([a-z_]+)\}\}")]
    private static partial Regex Placeholder();
}
