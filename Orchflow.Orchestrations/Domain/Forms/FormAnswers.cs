using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Orchflow.Domain;

/// <summary>
/// A person's answer to a human task's form: checked against the form's schema by the JSON Schema library, every
/// problem under <c>input.&lt;field&gt;</c>, and written out as the text the run's agents read, field by field with
/// each field's title.
/// </summary>
public static class FormAnswers
{
    public const string Field = "input";

    /// <summary>The largest integer a JSON number carries exactly (2^53 − 1); a larger one would be stored as another number.</summary>
    const double MaxExactInteger = 9_007_199_254_740_991;

    static readonly EvaluationOptions Options = new() { OutputFormat = OutputFormat.List, RequireFormatValidation = true };

    /// <summary>The problems of <paramref name="inputJson"/> (a JSON object) against the form <paramref name="schemaJson"/>; empty when it keeps it.</summary>
    public static IReadOnlyList<(string Field, string Message)> Check(string schemaJson, string inputJson)
    {
        if (JsonNode.Parse(inputJson) is not JsonObject input)
        {
            return [(Field, $"'{Field}' must be a JSON object of the form's fields.")];
        }

        var fields = InputSchemas.Fields(schemaJson);
        var byName = fields.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var problems = new List<(string Field, string Message)>();
        foreach (var (name, value) in input)
        {
            if (!byName.TryGetValue(name, out var field))
            {
                problems.Add(($"{Field}.{name}", $"'{name}' is not a field of this form; its fields are {string.Join(", ", fields.Select(f => f.Name))}."));
            }
            else if (value is null)
            {
                problems.Add(($"{Field}.{name}", $"'{field.Label}' must be a {field.Type}, not null; leave an optional field out instead."));
            }
            else if (value.GetValueKind() == JsonValueKind.Number && Unsafe(value.GetValue<JsonElement>()) is { } unsafeNumber)
            {
                problems.Add(($"{Field}.{name}", unsafeNumber));
            }
            else if (value.GetValueKind() == JsonValueKind.String && !PlainText.Is(value.GetValue<string>()))
            {
                problems.Add(($"{Field}.{name}", $"'{field.Label}' must be text: {PlainText.Rule}."));
            }
        }

        foreach (var missing in fields.Where(f => f.Required && !input.ContainsKey(f.Name)))
        {
            problems.Add(($"{Field}.{missing.Name}", $"'{missing.Label}' is required."));
        }

        // The library judges the values: types, choices, formats, lengths and bounds. What was said above is not said twice.
        var said = problems.Select(p => p.Field).ToHashSet(StringComparer.Ordinal);
        var strict = JsonNode.Parse(schemaJson)!.AsObject();
        strict["additionalProperties"] = false;
        var result = JsonSchema.FromText(strict.ToJsonString()).Evaluate(JsonSerializer.SerializeToElement(input), Options);
        if (!result.IsValid)
        {
            problems.AddRange(new[] { result }.Concat(result.Details ?? [])
                .Where(d => d.Errors is { Count: > 0 } && d.InstanceLocation.ToString().Length > 1)
                .SelectMany(d => d.Errors!.Select(e => (Field: Path(d.InstanceLocation.ToString()), Message: Say(byName, d.InstanceLocation.ToString(), e.Value))))
                .Where(p => !said.Contains(p.Field))
                .Distinct());
        }

        return problems;
    }

    /// <summary>
    /// The answer as the run's agents and synthesis read it: one line per field in the form's order, its title and
    /// name, and its value as written (yes or no for a box), or that it was not given.
    /// </summary>
    public static string Text(string schemaJson, string inputJson)
    {
        var input = JsonNode.Parse(inputJson)!.AsObject();
        var text = new StringBuilder();
        foreach (var field in InputSchemas.Fields(schemaJson))
        {
            text.Append(CultureInfo.InvariantCulture, $"- **{field.Label}** (`{field.Name}`):");
            var value = input[field.Name] switch
            {
                null => "not given",
                var v when v.GetValueKind() == JsonValueKind.True => "yes",
                var v when v.GetValueKind() == JsonValueKind.False => "no",
                var v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
                var v => v.ToJsonString(),
            };
            var lines = value.ReplaceLineEndings("\n").Split('\n');
            // A value of several lines stays inside its list item.
            text.Append(' ').Append(lines[0]);
            foreach (var line in lines.Skip(1))
            {
                text.Append('\n').Append("  ").Append(line);
            }

            text.Append('\n');
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>Why a number cannot be kept as sent: past what a double holds, or an integer past what one holds exactly.</summary>
    static string? Unsafe(JsonElement number) =>
        !number.TryGetDouble(out var value) || !double.IsFinite(value)
            ? "The number is too large to be kept exactly; send a finite number."
            : Math.Abs(value) > MaxExactInteger && value == Math.Floor(value)
                ? $"The number is past ±{MaxExactInteger.ToString("N0", CultureInfo.InvariantCulture)}, beyond what JSON numbers carry exactly."
                : null;

    static string Path(string pointer) =>
        string.Concat(new[] { Field }.Concat(pointer.Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => "." + p.Replace("~1", "/").Replace("~0", "~"))));

    /// <summary>The library's message, with the field's title before it so a person knows which box it is about.</summary>
    static string Say(Dictionary<string, FormField> fields, string pointer, string message)
    {
        var name = pointer.TrimStart('/').Replace("~1", "/").Replace("~0", "~");
        if (!fields.TryGetValue(name, out var field))
        {
            return message;
        }

        return field.Property["enum"] is JsonArray choices && message.Contains("enum", StringComparison.Ordinal)
            ? $"{field.Label}: choose one of {string.Join(", ", choices.Select(c => c!.GetValue<string>()))}."
            : $"{field.Label}: {message}";
    }
}
