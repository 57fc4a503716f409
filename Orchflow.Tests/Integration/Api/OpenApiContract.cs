using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Orchflow.Functions.Http;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Api;

/// <summary>One operation of the OpenAPI document: its method, its path from the API base (<c>/runs/{runId}</c>) and its id.</summary>
public sealed record OpenApiOperation(string Method, string Path, string? OperationId, string Pointer)
{
    /// <summary>The route the catalog would serve it at: <c>api/v1/runs/{runId}</c>.</summary>
    public string Route => FunctionCatalog.ApiBase.TrimStart('/') + Path;

    public override string ToString() => $"{Method} {Path}";
}

/// <summary>
/// Orchflow's OpenAPI document as the contract real responses are checked against: a response's status must be
/// documented for its operation, its media type must be one of that response's, its body must be valid against that
/// media type's schema (JSON Schema 2020-12 with formats enforced), and every header the response documents as
/// required must be there and valid.
/// </summary>
public sealed class OpenApiContract
{
    /// <summary>The document's identity for resolving <c>$ref</c>s; nothing is ever fetched from it.</summary>
    static readonly Uri BaseUri = new("https://orchflow.invalid/api/v1/openapi.json");

    static readonly string[] Methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

    static readonly EvaluationOptions Evaluation = new() { OutputFormat = OutputFormat.List, RequireFormatValidation = true };

    static readonly Lazy<OpenApiContract> Served = new(() => new OpenApiContract(EmbeddedText()));

    readonly JsonDocument document;
    readonly BuildOptions build;
    readonly ConcurrentDictionary<string, JsonSchema> schemas = new();

    public OpenApiContract(string json)
    {
        document = JsonDocument.Parse(json);
        var registry = new SchemaRegistry();
        registry.Register(new JsonElementBaseDocument(document.RootElement, BaseUri));
        // OpenAPI 3.1's schema dialect is 2020-12 plus a few annotations of its own (discriminator, example); the
        // linter's struct rule already refuses keywords neither knows, so unknown ones are left as annotations here.
        build = new BuildOptions { SchemaRegistry = registry, Dialect = Dialect.Draft202012 };
        Operations = document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject()
                .Where(m => Methods.Contains(m.Name))
                .Select(m => new OpenApiOperation(
                    m.Name.ToUpperInvariant(), path.Name,
                    m.Value.TryGetProperty("operationId", out var id) ? id.GetString() : null,
                    Pointer("paths", path.Name, m.Name))))
            .ToList();
    }

    /// <summary>The document this build serves, as embedded in Orchflow.Functions.</summary>
    public static OpenApiContract Embedded => Served.Value;

    public static string EmbeddedText()
    {
        using var stream = typeof(FunctionCatalog).Assembly.GetManifestResourceStream("Orchflow.Functions.OpenApi.openapi.json")
                           ?? throw new InvalidOperationException("The OpenAPI document is not embedded in Orchflow.Functions.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public JsonElement Root => document.RootElement;

    public IReadOnlyList<OpenApiOperation> Operations { get; }

    public OpenApiOperation Operation(string operationId) =>
        Operations.SingleOrDefault(o => o.OperationId == operationId)
        ?? throw new ArgumentException($"The document has no operation '{operationId}'.", nameof(operationId));

    public OpenApiOperation? Find(string method, string path) =>
        Operations.SingleOrDefault(o => o.Method == method && string.Equals(o.Path, path, StringComparison.Ordinal));

    public JsonElement Element(OpenApiOperation operation) => At(operation.Pointer);

    /// <summary>The operation's documented responses by status key ("200", "4XX"), each with the component it refers to, if any.</summary>
    public IReadOnlyList<(string Status, string? Component)> Responses(OpenApiOperation operation) =>
        Element(operation).GetProperty("responses").EnumerateObject()
            .Select(r => (r.Name, r.Value.TryGetProperty("$ref", out var reference) ? reference.GetString() : null))
            .ToList();

    /// <summary>Every way <paramref name="response"/> disagrees with what the document says <paramref name="operation"/> answers.</summary>
    public IReadOnlyList<string> Check(OpenApiOperation operation, ApiResponse response)
    {
        var problems = new List<string>();
        var status = ((int)response.Status).ToString(CultureInfo.InvariantCulture);
        var responses = Element(operation).GetProperty("responses");
        var key = new[] { status, status[0] + "XX", "default" }.FirstOrDefault(k => responses.TryGetProperty(k, out _));
        if (key is null)
        {
            problems.Add($"status {status} is not documented (documented: {string.Join(", ", responses.EnumerateObject().Select(r => r.Name))})");
            return problems;
        }

        var (pointer, documented) = Resolve(operation.Pointer + "/responses/" + Escape(key));
        if (documented.TryGetProperty("content", out var content))
        {
            var media = response.ContentType;
            if (media is null || !content.TryGetProperty(media, out var mediaType))
            {
                problems.Add($"media type {media ?? "(none)"} is not documented for {status} (documented: " +
                             $"{string.Join(", ", content.EnumerateObject().Select(c => c.Name))})");
            }
            else if (mediaType.TryGetProperty("schema", out _))
            {
                problems.AddRange(Validate(pointer + "/content/" + Escape(media) + "/schema", Instance(media, response.Text), "body"));
            }
        }
        else if (response.Text.Length > 0 || response.ContentType is not null)
        {
            problems.Add($"{status} is documented without a body, but one came ({response.ContentType}, {response.Text.Length} characters)");
        }

        if (documented.TryGetProperty("headers", out var headers))
        {
            foreach (var header in headers.EnumerateObject())
            {
                var (headerPointer, definition) = Resolve(pointer + "/headers/" + Escape(header.Name));
                var required = definition.TryGetProperty("required", out var r) && r.GetBoolean();
                var value = response.Header(header.Name);
                if (value is null)
                {
                    if (required)
                    {
                        problems.Add($"header {header.Name} is documented as required for {status} but is missing");
                    }

                    continue;
                }

                var (_, schema) = Resolve(headerPointer + "/schema");
                JsonNode? instance = schema.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String &&
                                     type.GetString() == "integer" && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                    ? JsonValue.Create(number)
                    : JsonValue.Create(value);
                problems.AddRange(Validate(headerPointer + "/schema", instance, $"header {header.Name}"));
            }
        }

        return problems;
    }

    /// <summary>Every way <paramref name="instance"/> disagrees with the component schema <paramref name="name"/>.</summary>
    public IReadOnlyList<string> CheckSchema(string name, JsonNode? instance) =>
        Validate(Pointer("components", "schemas", name), instance, name);

    IReadOnlyList<string> Validate(string pointer, JsonNode? instance, string what)
    {
        var schema = schemas.GetOrAdd(pointer, p => JsonSchema.FromText(JsonSerializer.Serialize(new Dictionary<string, string> { ["$ref"] = BaseUri + "#" + Fragment(p) }), build));
        var result = schema.Evaluate(JsonSerializer.SerializeToElement(instance), Evaluation);
        if (result.IsValid)
        {
            return [];
        }

        return new[] { result }.Concat(result.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{what} at '{d.InstanceLocation}': {e.Value} ({e.Key} at {d.SchemaLocation.Fragment})"))
            .Distinct()
            .ToList();
    }

    /// <summary>A body as the schema sees it: JSON parsed, anything else (an event stream) as one string.</summary>
    static JsonNode? Instance(string media, string text)
    {
        if (!media.EndsWith("json", StringComparison.Ordinal))
        {
            return JsonValue.Create(text);
        }

        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            return JsonValue.Create($"(not JSON: {e.Message}) {text}");
        }
    }

    /// <summary>The element at <paramref name="pointer"/>, following OpenAPI's own <c>$ref</c>s (to components) until there is none.</summary>
    (string Pointer, JsonElement Element) Resolve(string pointer)
    {
        var element = At(pointer);
        for (var hops = 0; element.ValueKind == JsonValueKind.Object && element.TryGetProperty("$ref", out var reference); hops++)
        {
            var target = reference.GetString()!;
            if (!target.StartsWith('#') || hops > 10)
            {
                throw new InvalidOperationException($"{pointer} refers to {target}, which is not a reference within the document.");
            }

            pointer = target[1..];
            element = At(pointer);
        }

        return (pointer, element);
    }

    JsonElement At(string pointer)
    {
        var element = document.RootElement;
        foreach (var segment in pointer.Split('/').Skip(1).Select(s => s.Replace("~1", "/").Replace("~0", "~")))
        {
            if (!element.TryGetProperty(segment, out element))
            {
                throw new InvalidOperationException($"The document has nothing at {pointer}.");
            }
        }

        return element;
    }

    /// <summary>A JSON pointer as a URI fragment: "+" in <c>application/problem+json</c> would not survive unescaped.</summary>
    static string Fragment(string pointer) => string.Join('/', pointer.Split('/').Select(Uri.EscapeDataString));

    static string Pointer(params string[] segments) => string.Concat(segments.Select(s => "/" + Escape(s)));

    static string Escape(string segment) => segment.Replace("~", "~0").Replace("/", "~1");
}
