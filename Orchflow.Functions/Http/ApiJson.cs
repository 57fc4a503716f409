using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchflow.Functions.Http;

/// <summary>The API's JSON conventions: snake_case names and enum values, ISO 8601 timestamps.</summary>
public static class ApiJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // Field names are matched exactly, as documented: "Task" is not "task", so it cannot duplicate or shadow it.
        PropertyNameCaseInsensitive = false,
        DictionaryKeyPolicy = null,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
        NumberHandling = JsonNumberHandling.Strict,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = 32,

        // {"task": "a", "task": "b"} is ambiguous (parsers disagree on which wins): refuse it rather than pick one.
        AllowDuplicateProperties = false,

        // A misspelt field ("ask_me_abuot") would otherwise be dropped in silence, and the run started without it.
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,

        // Responses are application/json for API clients, never embedded in HTML: keep non-ASCII text readable
        // (a human's answer in any language, the "…" of a key hint) instead of \uXXXX escapes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
