using System.Text.Json;

namespace Orchflow.Tools;

/// <summary>
/// The headers an account gives a tool server (an API key, a bearer token): which it may set, and how their values
/// are kept, as one secret per server whose name the server's row holds.
/// </summary>
public static class ToolServerHeaders
{
    public const int MaxHeaders = 20;
    public const int MaxNameLength = 100;
    public const int MaxValueLength = 4_000;

    /// <summary>Headers the MCP transport or HTTP itself sets: a value from the user would break the session or the request.</summary>
    static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade",
        "TE", "Trailer", "Expect", "Accept", "Accept-Encoding", "Cookie", "Proxy-Authorization", "Proxy-Connection",
        "Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-ID",
    };

    /// <summary>Why a header name cannot be sent, if it cannot (the field is <c>headers</c>; the message names it).</summary>
    public static string? NameProblem(string name)
    {
        if (name.Length is 0 or > MaxNameLength || !name.All(IsTokenChar))
        {
            return $"Header names are 1 to {MaxNameLength} of letters, digits and !#$%&'*+-.^_`|~; '{Printable(name)}' is not one.";
        }

        return Reserved.Contains(name)
            ? $"'{name}' is set by Orchflow's MCP client itself; send your credentials in another header, such as Authorization."
            : null;
    }

    /// <summary>Why a header value cannot be sent, if it cannot; never quotes the value, which is a secret.</summary>
    public static string? ValueProblem(string name, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return $"'headers.{name}' must be a non-empty string.";
        }

        if (value.Length > MaxValueLength)
        {
            return $"'headers.{name}' must be at most {MaxValueLength} characters (got {value.Length}).";
        }

        return value.All(c => c is '\t' or >= ' ' and <= '~')
            ? null
            : $"'headers.{name}' must be printable ASCII: no line breaks, control characters or characters outside ASCII.";
    }

    /// <summary>The value kept in the secret store for a server's headers.</summary>
    public static string Serialize(IReadOnlyDictionary<string, string> headers) => JsonSerializer.Serialize(headers);

    public static IReadOnlyDictionary<string, string> Deserialize(string? secret) =>
        secret is null ? new Dictionary<string, string>() : JsonSerializer.Deserialize<Dictionary<string, string>>(secret) ?? [];

    /// <summary>Key Vault secret names allow letters, digits and dashes only.</summary>
    public static string SecretName(string accountId, string serverId) => $"toolserver-{accountId}-{serverId}".Replace('_', '-');

    static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);

    static string Printable(string name) =>
        new(name.Take(MaxNameLength).Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
}
