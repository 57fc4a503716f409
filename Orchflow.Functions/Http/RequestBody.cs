using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Orchflow.Functions.Http;

/// <summary>Reads a JSON request body within the size limit; anything malformed becomes a 4xx, never an exception.</summary>
public static class RequestBody
{
    /// <summary>The largest body the API accepts: a 32,000-character answer in any script fits with room to spare.</summary>
    public const int MaxBytes = 256 * 1024;

    public static async Task<(T? Value, ApiResult? Problem)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        if (request.ContentLength > MaxBytes)
        {
            return (null, Problems.PayloadTooLarge(MaxBytes));
        }

        if (ContentTypeProblem(request.ContentType) is { } wrongType)
        {
            return (null, Problems.Validation("body", wrongType));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
            {
                return (null, Problems.PayloadTooLarge(MaxBytes));
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            return (null, Problems.Validation("body", "The request body is empty; send a JSON object."));
        }

        return Parse<T>(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }

    /// <summary>A JSON request body already read (an MCP tool's arguments): the value, or every problem it has as a 422.</summary>
    public static (T? Value, ApiResult? Problem) Parse<T>(ReadOnlyMemory<byte> body)
        where T : class
    {
        try
        {
            var value = JsonSerializer.Deserialize<T>(body.Span, ApiJson.Options);
            return value is null
                ? (null, Problems.Validation("body", "The request body must be a JSON object, not null."))
                : (value, null);
        }
        catch (JsonException e)
        {
            // The serializer stops at the first wrong field; a client fixing a body wants every one of them at once.
            var errors = FieldErrors<T>(body);
            if (errors is { Count: > 1 })
            {
                return (null, Problems.Validation(errors));
            }

            var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "body" : e.Path.TrimStart('$', '.');
            return (null, Problems.Validation(field, Describe(e)));
        }
    }

    /// <summary>
    /// Every field of a well-formed JSON object that does not read as its type or is not a field at all, each under its
    /// own path; null when the body is not a well-formed object (then the serializer's one error says why).
    /// </summary>
    static Dictionary<string, string[]>? FieldErrors<T>(ReadOnlyMemory<byte> body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { AllowTrailingCommas = false, MaxDepth = ApiJson.Options.MaxDepth });
        }
        catch (JsonException)
        {
            return null;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var properties = ApiJson.Options.GetTypeInfo(typeof(T)).Properties.ToDictionary(p => p.Name, p => p.PropertyType, StringComparer.Ordinal);
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            foreach (var field in document.RootElement.EnumerateObject())
            {
                if (errors.ContainsKey(field.Name))
                {
                    errors[field.Name] = [$"'{field.Name}' is given more than once."];
                }
                else if (!properties.TryGetValue(field.Name, out var type))
                {
                    errors[field.Name] = [$"'{field.Name}' is not a field of this request; check its spelling against the API reference."];
                }
                else
                {
                    try
                    {
                        JsonSerializer.Deserialize(field.Value, type, ApiJson.Options);
                    }
                    catch (JsonException e)
                    {
                        var path = field.Name + (e.Path is null or "$" ? "" : e.Path.TrimStart('$'));
                        errors[path] = [Describe(e, path)];
                    }
                }
            }

            return errors;
        }
    }

    /// <summary>
    /// Why the body's declared type is not JSON in UTF-8, if it is not. No Content-Type at all is read as JSON, as
    /// many clients send none; application/json and any <c>+json</c> type pass.
    /// </summary>
    static string? ContentTypeProblem(string? contentType)
    {
        if (contentType is null)
        {
            return null;
        }

        if (!MediaTypeHeaderValue.TryParse(contentType, out var type) || type.MediaType is not { } media ||
            !(media.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
              media.EndsWith("+json", StringComparison.OrdinalIgnoreCase)))
        {
            return "Send JSON with Content-Type: application/json.";
        }

        return type.CharSet is { Length: > 0 } charset && !charset.Trim('"').Equals("utf-8", StringComparison.OrdinalIgnoreCase)
            ? "Send JSON in UTF-8 (charset=utf-8 or no charset)."
            : null;
    }

    /// <summary>
    /// What is wrong at the failing path, in the API's words; the serializer's own message names .NET types, so it is
    /// only looked at to tell an unknown or repeated field from a malformed one.
    /// </summary>
    static string Describe(JsonException e)
    {
        if (e.Path is null or "$")
        {
            return "The request body is not a valid JSON object.";
        }

        return Describe(e, e.Path.TrimStart('$', '.'));
    }

    static string Describe(JsonException e, string field) =>
        e.Message switch
        {
            var m when m.Contains("could not be mapped", StringComparison.Ordinal) =>
                $"'{field}' is not a field of this request; check its spelling against the API reference.",
            var m when m.StartsWith("Duplicate property", StringComparison.Ordinal) => $"'{field}' is given more than once.",
            _ => $"'{field}' has the wrong type or is malformed.",
        };
}
