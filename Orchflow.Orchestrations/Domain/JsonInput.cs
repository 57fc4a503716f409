using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Orchflow.Domain;

/// <summary>Checks a JSON object someone sent against the JSON schema it must keep, every problem named by its field.</summary>
public static class JsonInput
{
    static readonly EvaluationOptions Options = new() { OutputFormat = OutputFormat.List, RequireFormatValidation = true };

    /// <summary>
    /// The problems of <paramref name="json"/> against <paramref name="schemaJson"/>, each under <paramref name="field"/> and
    /// the path of the value it is about (<c>arguments.city</c>); empty when it keeps the schema. A schema that cannot be
    /// read constrains nothing beyond the object itself.
    /// </summary>
    public static IReadOnlyList<(string Field, string Message)> Check(string? schemaJson, string json, string field)
    {
        JsonNode? value;
        try
        {
            value = JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return [(field, $"'{field}' must be a JSON object.")];
        }

        if (value is not JsonObject)
        {
            return [(field, $"'{field}' must be a JSON object.")];
        }

        JsonSchema schema;
        try
        {
            schema = JsonSchema.FromText(schemaJson ?? "{}");
        }
        catch (Exception e) when (e is JsonException or JsonSchemaException)
        {
            return [];
        }

        var result = schema.Evaluate(JsonSerializer.SerializeToElement(value), Options);
        if (result.IsValid)
        {
            return [];
        }

        return new[] { result }.Concat(result.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => (Field: Path(field, d.InstanceLocation.ToString()), Message: e.Value)))
            .Distinct()
            .ToList();
    }

    /// <summary>A JSON pointer into the object as a dotted field name under <paramref name="field"/>.</summary>
    static string Path(string field, string pointer) =>
        string.Concat(new[] { field }.Concat(pointer.Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => "." + p.Replace("~1", "/").Replace("~0", "~"))));
}
