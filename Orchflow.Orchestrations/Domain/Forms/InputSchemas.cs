using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchflow.Domain;

/// <summary>One field of a human task's form, as its schema describes it.</summary>
public sealed record FormField(string Name, JsonObject Property, bool Required)
{
    public string Type => Property["type"]!.GetValue<string>();

    /// <summary>What a person is shown: the field's title, or its name when it has none.</summary>
    public string Label => Property["title"]?.GetValue<string>() ?? Name;
}

/// <summary>
/// The schemas of human tasks' forms: a JSON Schema object kept to the subset MCP elicitation's <c>requestedSchema</c>
/// allows (a flat object of <c>string</c>, <c>number</c>, <c>integer</c> and <c>boolean</c> properties with a few
/// keywords each), so any client that draws MCP forms can draw Orchflow's. Read with every problem named by its path;
/// anything outside the subset or past its bounds is refused rather than dropped.
/// </summary>
public static class InputSchemas
{
    public const int MaxProperties = 50;
    public const int MaxEnumValues = 100;
    public const int MaxEnumValueLength = 200;
    public const int MaxTitleLength = 200;
    public const int MaxDescriptionLength = 1000;
    public const int MaxNameLength = 64;

    /// <summary>The longest text a field may ask for (the bound of <c>minLength</c> and <c>maxLength</c>), as long as a free-text answer.</summary>
    public const int MaxTextLength = 32_000;

    /// <summary>The most characters a schema holds as JSON: it travels in events and webhooks.</summary>
    public const int MaxJsonLength = 16_000;

    public static readonly IReadOnlyList<string> Types = ["string", "number", "integer", "boolean"];

    public static readonly IReadOnlyList<string> Formats = ["email", "uri", "date", "date-time"];

    static readonly string[] TopKeywords = ["type", "properties", "required"];

    static readonly Dictionary<string, string[]> KeywordsOf = new()
    {
        ["string"] = ["type", "title", "description", "enum", "format", "minLength", "maxLength"],
        ["number"] = ["type", "title", "description", "minimum", "maximum"],
        ["integer"] = ["type", "title", "description", "minimum", "maximum"],
        ["boolean"] = ["type", "title", "description"],
    };

    /// <summary>
    /// The schema <paramref name="node"/> as stored (compact JSON, properties in the order given), or null with what is
    /// wrong added to <paramref name="problems"/>, each under <paramref name="field"/> and its path.
    /// </summary>
    public static string? Read(JsonNode? node, string field, List<(string Field, string Message)> problems)
    {
        var before = problems.Count;
        if (node is not JsonObject schema)
        {
            problems.Add((field, $"'{field}' must be a JSON Schema object: {{\"type\": \"object\", \"properties\": {{…}}, \"required\": […]}}."));
            return null;
        }

        foreach (var (key, _) in schema.Where(p => !TopKeywords.Contains(p.Key)))
        {
            problems.Add(($"{field}.{key}", $"'{key}' is not allowed here: a form's schema has only type, properties and required."));
        }

        if (schema["type"] is not JsonValue type || !type.TryGetValue<string>(out var t) || t != "object")
        {
            problems.Add(($"{field}.type", "'type' must be \"object\"."));
        }

        var fields = new List<(string Name, JsonObject Property)>();
        if (schema["properties"] is not JsonObject properties || properties.Count == 0)
        {
            problems.Add(($"{field}.properties", "'properties' must be an object naming at least one field."));
        }
        else if (properties.Count > MaxProperties)
        {
            problems.Add(($"{field}.properties", $"A form has at most {MaxProperties} fields (got {properties.Count})."));
        }
        else
        {
            foreach (var (name, value) in properties)
            {
                var at = $"{field}.properties.{name}";
                if (!IsName(name))
                {
                    problems.Add((at, NameRule(name)));
                }
                else if (ReadProperty(value, at, problems) is { } property)
                {
                    fields.Add((name, property));
                }
            }
        }

        var named = (schema["properties"] as JsonObject ?? []).Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        var required = ReadRequired(schema["required"], $"{field}.required", named, problems);
        if (problems.Count > before)
        {
            return null;
        }

        var json = Write(fields.Select(f => new FormField(f.Name, f.Property, required.Contains(f.Name))));
        if (json.Length > MaxJsonLength)
        {
            problems.Add((field, $"The schema is {json.Length} characters of JSON; a form's schema may be at most {MaxJsonLength}."));
            return null;
        }

        return json;
    }

    /// <summary>
    /// One field's schema in the subset, copied (its keywords in a fixed order), or null with its problems added.
    /// Keys in <paramref name="skip"/> belong to whatever holds the property (an ask_me_about entry's name) and are not looked at.
    /// </summary>
    public static JsonObject? ReadProperty(JsonNode? node, string field, List<(string Field, string Message)> problems, params string[] skip)
    {
        if (node is not JsonObject property)
        {
            problems.Add((field, $"'{field}' must be an object: {{\"type\": \"string\" | \"number\" | \"integer\" | \"boolean\", \"title\", …}}."));
            return null;
        }

        var before = problems.Count;
        var type = property["type"] is JsonValue tv && tv.TryGetValue<string>(out var t) && Types.Contains(t) ? t : null;
        if (type is null)
        {
            problems.Add(($"{field}.type", $"'type' must be one of {string.Join(", ", Types)} (a form has no objects, arrays or references)."));
        }

        var allowed = type is null ? KeywordsOf.Values.SelectMany(k => k).Distinct().ToArray() : KeywordsOf[type];
        foreach (var key in property.Select(p => p.Key).Where(k => !allowed.Contains(k) && !skip.Contains(k)))
        {
            problems.Add(($"{field}.{key}", type is null || KeywordsOf.Values.All(k => !k.Contains(key))
                ? $"'{key}' is not allowed in a form field; a field may have type, title, description, and for its type enum, format, minLength, maxLength, minimum or maximum."
                : $"'{key}' does not apply to a {type} field."));
        }

        var copy = new JsonObject { ["type"] = type };
        Text(property, "title", MaxTitleLength, field, copy, problems);
        Text(property, "description", MaxDescriptionLength, field, copy, problems);
        if (type == "string")
        {
            Enum(property["enum"], $"{field}.enum", copy, problems);
            if (property["format"] is { } format)
            {
                if (format is JsonValue fv && fv.TryGetValue<string>(out var f) && Formats.Contains(f))
                {
                    copy["format"] = f;
                }
                else
                {
                    problems.Add(($"{field}.format", $"'format' must be one of {string.Join(", ", Formats)}."));
                }
            }

            Bounds(property, "minLength", "maxLength", field, copy, problems, whole: true);
        }
        else if (type is "number" or "integer")
        {
            Bounds(property, "minimum", "maximum", field, copy, problems, whole: false);
        }

        return problems.Count > before ? null : copy;
    }

    /// <summary>A field's name: letters, digits, '_' or '-', starting with a letter or '_', at most <see cref="MaxNameLength"/>.</summary>
    public static bool IsName(string name) =>
        name.Length is > 0 and <= MaxNameLength && (char.IsLetter(name[0]) || name[0] == '_') &&
        name.All(c => char.IsLetterOrDigit(c) || c is '_' or '-');

    public static string NameRule(string name) =>
        $"'{Shorten(name)}' is not a field name: use 1 to {MaxNameLength} letters, digits, '_' or '-', starting with a letter or '_'.";

    /// <summary>A schema of these fields, as stored.</summary>
    public static string Write(IEnumerable<FormField> fields)
    {
        var list = fields.ToList();
        var properties = new JsonObject();
        foreach (var f in list)
        {
            properties[f.Name] = f.Property.DeepClone();
        }

        return new JsonObject
        {
            ["type"] = "object",
            ["properties"] = properties,
            ["required"] = new JsonArray(list.Where(f => f.Required).Select(f => (JsonNode)f.Name).ToArray()),
        }.ToJsonString();
    }

    /// <summary>The fields of a stored schema, in order.</summary>
    public static IReadOnlyList<FormField> Fields(string schemaJson)
    {
        var schema = JsonNode.Parse(schemaJson)!.AsObject();
        var required = (schema["required"] as JsonArray ?? []).Select(r => r!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        return (schema["properties"] as JsonObject ?? [])
            .Select(p => new FormField(p.Key, p.Value!.AsObject(), required.Contains(p.Key)))
            .ToList();
    }

    static HashSet<string> ReadRequired(JsonNode? node, string field, HashSet<string> names, List<(string Field, string Message)> problems)
    {
        var required = new HashSet<string>(StringComparer.Ordinal);
        if (node is null)
        {
            return required;
        }

        if (node is not JsonArray list)
        {
            problems.Add((field, "'required' must be an array of field names."));
            return required;
        }

        foreach (var (item, i) in list.Select((x, i) => (x, i)))
        {
            if (item is not JsonValue v || !v.TryGetValue<string>(out var name))
            {
                problems.Add(($"{field}[{i}]", "Each entry of 'required' must be the name of a field."));
            }
            else if (!required.Add(name))
            {
                problems.Add(($"{field}[{i}]", $"'{Shorten(name)}' is listed twice."));
            }
            else if (!names.Contains(name) && IsName(name))
            {
                problems.Add(($"{field}[{i}]", $"'{Shorten(name)}' is not one of the form's properties."));
            }
        }

        return required;
    }

    static void Text(JsonObject property, string key, int max, string field, JsonObject copy, List<(string Field, string Message)> problems)
    {
        if (property[key] is not { } node)
        {
            return;
        }

        if (node is JsonValue v && v.TryGetValue<string>(out var text) && text.Trim().Length > 0 && text.Length <= max && PlainText.Is(text))
        {
            copy[key] = text;
        }
        else
        {
            problems.Add(($"{field}.{key}", $"'{key}' must be text of 1 to {max} characters: {PlainText.Rule}."));
        }
    }

    static void Enum(JsonNode? node, string field, JsonObject copy, List<(string Field, string Message)> problems)
    {
        if (node is null)
        {
            return;
        }

        if (node is not JsonArray values || values.Count == 0 || values.Count > MaxEnumValues)
        {
            problems.Add((field, $"'enum' must be an array of 1 to {MaxEnumValues} strings" +
                                 (node is JsonArray { Count: > MaxEnumValues } many ? $" (got {many.Count})." : ".")));
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var before = problems.Count;
        foreach (var (value, i) in values.Select((x, i) => (x, i)))
        {
            if (value is not JsonValue v || !v.TryGetValue<string>(out var text) || text.Trim().Length == 0 || text.Length > MaxEnumValueLength ||
                !PlainText.Is(text))
            {
                problems.Add(($"{field}[{i}]", $"Each choice must be text of 1 to {MaxEnumValueLength} characters: {PlainText.Rule}."));
            }
            else if (!seen.Add(text))
            {
                problems.Add(($"{field}[{i}]", $"'{Shorten(text)}' is listed twice."));
            }
        }

        if (problems.Count == before)
        {
            copy["enum"] = new JsonArray(seen.Select(s => (JsonNode)s).ToArray());
        }
    }

    /// <summary>A lower and an upper bound: whole numbers from 0 to <see cref="MaxTextLength"/> for lengths, finite numbers otherwise, low ≤ high.</summary>
    static void Bounds(JsonObject property, string low, string high, string field, JsonObject copy, List<(string Field, string Message)> problems, bool whole)
    {
        double? Bound(string key)
        {
            if (property[key] is not { } node)
            {
                return null;
            }

            var ok = node is JsonValue v && node.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d) && double.IsFinite(d);
            var value = ok ? node.GetValue<double>() : 0;
            if (!ok || (whole && (value != Math.Floor(value) || value < 0 || value > MaxTextLength)))
            {
                problems.Add(($"{field}.{key}", whole
                    ? $"'{key}' must be a whole number from 0 to {MaxTextLength}."
                    : $"'{key}' must be a finite number."));
                return null;
            }

            copy[key] = whole ? JsonValue.Create((int)value) : node.DeepClone();
            return value;
        }

        var (min, max) = (Bound(low), Bound(high));
        if (min > max)
        {
            problems.Add(($"{field}.{low}", $"'{low}' ({min.Value.ToString(CultureInfo.InvariantCulture)}) is more than '{high}' ({max!.Value.ToString(CultureInfo.InvariantCulture)})."));
        }
    }

    static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
