using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>
/// What every error response must be (docs/api.md, "Errors"): RFC 9457 problem details with a stable code, and nothing of
/// the server's insides — no stack trace, no .NET type name, no storage detail. Returns what is wrong, so a
/// campaign can collect findings over thousands of requests instead of stopping at the first.
/// </summary>
public static partial class ErrorRules
{
    /// <summary>
    /// The codes docs/api.md's "Errors" lists, the idempotency ones and the 405's (a method a path does not serve) among
    /// them.
    /// </summary>
    public static readonly IReadOnlySet<string> Codes = new HashSet<string>(StringComparer.Ordinal)
    {
        "unauthorized", "trial_exhausted", "not_found", "validation_failed", "conflict", "rate_limited",
        "payload_too_large", "internal", "idempotency_mismatch", "idempotency_in_progress", "method_not_allowed",
    };

    /// <summary>Every way the response breaks the problem-details contract; empty when it keeps it.</summary>
    public static IReadOnlyList<string> ProblemViolations(RawResponse response, bool headRequest = false)
    {
        var violations = new List<string>();
        if (response.MediaType != "application/problem+json")
        {
            violations.Add($"Content-Type is '{response.MediaType ?? "(none)"}', not application/problem+json");
        }

        if (headRequest)
        {
            // A HEAD response has no body to check; its headers must still say what the body would be.
            return violations;
        }

        if (response.Json is not JsonObject body)
        {
            violations.Add(response.Text.Length == 0 ? "the body is empty" : "the body is not a JSON object" + (response.JsonError is null ? "" : $" ({response.JsonError})"));
            return violations;
        }

        foreach (var member in new[] { "type", "title", "detail", "code" })
        {
            if (body[member] is not JsonValue value || !value.TryGetValue(out string? text) || string.IsNullOrWhiteSpace(text))
            {
                violations.Add($"'{member}' is missing or not a non-empty string");
            }
        }

        if (body["status"] is not JsonValue status || !status.TryGetValue(out int number) || number != response.Status)
        {
            violations.Add($"'status' is {body["status"]?.ToJsonString() ?? "missing"}, not {response.Status}");
        }

        if (response.Code is { } code && !Codes.Contains(code))
        {
            violations.Add($"code '{code}' is not one of the codes of docs/api.md \"Errors\"");
        }

        if (response.Status == 422)
        {
            if (body["errors"] is not JsonObject errors || errors.Count == 0)
            {
                violations.Add("a 422 without a non-empty 'errors' object");
            }
            else if (errors.Any(e => e.Value is not JsonArray messages || messages.Count == 0 ||
                                     messages.Any(m => m is not JsonValue v || !v.TryGetValue(out string? s) || s.Length == 0)))
            {
                violations.Add("'errors' holds a field without a list of messages");
            }
        }

        return violations;
    }

    /// <summary>
    /// What of the server's insides the text shows: a stack trace, a type name or a storage detail. What the request
    /// itself said (<paramref name="echo"/>: its path, query and body) is not a leak when an answer quotes it back.
    /// </summary>
    public static IReadOnlyList<string> Leaks(string text, string echo, params string[] storageWords)
    {
        bool Echoed(string found) => echo.Contains(found, StringComparison.OrdinalIgnoreCase);

        var leaks = new List<string>();
        foreach (var frame in StackFrame().Matches(text).Where(m => !Echoed(m.Value)).Take(1))
        {
            leaks.Add($"a stack trace ('{frame.Value.Trim()}')");
        }

        foreach (var type in TypeName().Matches(text).Where(m => !Echoed(m.Value)).Take(1))
        {
            leaks.Add($"a .NET type name ('{type.Value}')");
        }

        foreach (var word in StorageWords.Concat(storageWords).Where(w => w.Length > 0 && !Echoed(w)))
        {
            if (text.Contains(word, StringComparison.OrdinalIgnoreCase))
            {
                leaks.Add($"a storage or serializer detail ('{word}')");
            }
        }

        return leaks;
    }

    /// <summary>Words of Table Storage's and System.Text.Json's own messages, which an answer must put in its own words.</summary>
    static readonly string[] StorageWords =
    [
        "PartitionKey", "RowKey", "odata", "devstoreaccount1", "x-ms-", "ErrorCode", "RequestFailed", "TableServiceError",
        "EntityAlreadyExists", "UpdateConditionNotSatisfied", "ResourceNotFound", "azurite", "BytePositionInLine", "LineNumber:",
        "Exception", "StackTrace",
    ];

    [GeneratedRegex(@"(^|\s)at [\w.<>`]+\(.*?\)|--- End of|\.cs:line \d+", RegexOptions.Multiline)]
    private static partial Regex StackFrame();

    [GeneratedRegex(@"\b(System|Microsoft|Azure|Orchflow|Grpc|DurableTask)\.[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9`]*)*")]
    private static partial Regex TypeName();
}
