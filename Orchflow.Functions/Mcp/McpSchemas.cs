using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchflow.Functions.Mcp;

/// <summary>
/// The MCP tools' input and output schemas, taken from the API's own OpenAPI document (the schemas of the same request
/// and response bodies, with their bounds), as JSON Schema 2020-12 documents: each names its dialect in <c>$schema</c>
/// and carries the components it refers to in <c>$defs</c>. The OpenAPI tests keep the document true to the responses,
/// so these stay true with it.
/// </summary>
public static class McpSchemas
{
    public const string Dialect = "https://json-schema.org/draft/2020-12/schema";
    const string ComponentRef = "#/components/schemas/";
    const string DefsRef = "#/$defs/";

    static readonly Lazy<JsonObject> Document = new(() =>
    {
        using var stream = typeof(McpSchemas).Assembly.GetManifestResourceStream("Orchflow.Functions.OpenApi.openapi.json")
                           ?? throw new InvalidOperationException("The OpenAPI document is not embedded in the build.");
        return JsonNode.Parse(stream)!.AsObject();
    });

    static JsonObject Components => Document.Value["components"]!["schemas"]!.AsObject();

    /// <summary>The component <paramref name="name"/> as a whole schema document.</summary>
    public static JsonElement Of(string name) => AsDocument(Component(name));

    /// <summary>An object of the given properties (each a component, or a schema), all required unless listed optional.</summary>
    public static JsonElement Object(IReadOnlyList<(string Name, JsonNode Schema, bool Required)> properties)
    {
        var shape = new JsonObject
        {
            ["type"] = "object",
            ["additionalProperties"] = false,
            ["properties"] = new JsonObject(properties.Select(p => KeyValuePair.Create(p.Name, (JsonNode?)p.Schema.DeepClone()))),
            ["required"] = new JsonArray(properties.Where(p => p.Required).Select(p => (JsonNode?)p.Name).ToArray()),
        };
        return AsDocument(shape);
    }

    /// <summary>A reference to the component <paramref name="name"/>, for a property of <see cref="Object"/>.</summary>
    public static JsonNode Ref(string name, string? description = null)
    {
        _ = Component(name);
        var reference = new JsonObject { ["$ref"] = ComponentRef + name };
        if (description is not null)
        {
            reference["description"] = description;
        }

        return reference;
    }

    /// <summary>The schema of a query parameter of an operation of the document, by path, method and name.</summary>
    public static JsonNode Parameter(string path, string method, string name)
    {
        var parameter = Document.Value["paths"]![path]![method]!["parameters"]!.AsArray().Single(p => (string?)p!["name"] == name)!;
        var schema = parameter["schema"]!.DeepClone().AsObject();
        schema["description"] = (string?)parameter["description"];
        return schema;
    }

    static JsonObject Component(string name) =>
        Components[name]?.DeepClone().AsObject() ?? throw new InvalidOperationException($"The OpenAPI document has no schema '{name}'.");

    /// <summary><paramref name="root"/> with <c>$schema</c>, every component it refers to (at any depth) in <c>$defs</c>, and its references pointing there.</summary>
    static JsonElement AsDocument(JsonObject root)
    {
        var defs = new JsonObject();
        var pending = new Queue<string>(References(root));
        while (pending.TryDequeue(out var name))
        {
            if (defs.ContainsKey(name))
            {
                continue;
            }

            var component = Component(name);
            defs[name] = component;
            foreach (var next in References(component))
            {
                pending.Enqueue(next);
            }
        }

        var document = new JsonObject { ["$schema"] = Dialect };
        foreach (var (key, value) in root)
        {
            document[key] = value?.DeepClone();
        }

        if (defs.Count > 0)
        {
            document["$defs"] = defs;
        }

        var json = document.ToJsonString().Replace("\"" + ComponentRef, "\"" + DefsRef, StringComparison.Ordinal);
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    static IEnumerable<string> References(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => p.Key == "$ref" && p.Value is JsonValue v && v.TryGetValue<string>(out var r) && r.StartsWith(ComponentRef, StringComparison.Ordinal)
            ? [r[ComponentRef.Length..]]
            : References(p.Value)),
        JsonArray a => a.SelectMany(References),
        _ => [],
    };
}
