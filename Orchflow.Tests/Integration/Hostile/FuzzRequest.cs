using System.Text;
using Orchflow.Functions.Functions;
using Orchflow.Functions.Http;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Hostile;

/// <summary>The two accounts a campaign aims at: A's and B's resting runs and providers.</summary>
public sealed record FuzzTargets(AccountIds A, AccountIds B);

/// <summary>
/// One generated request and what is wrong with it by construction. A request with a defect must not succeed; a
/// mutating one always has at least one, so a 2xx to it means the API accepted something it should have refused.
/// </summary>
public sealed record FuzzRequest(
    int Index,
    string Category,
    RawRequest Raw,
    string? Route,
    string Caller,
    bool Mutating,
    IReadOnlyList<string> Defects,
    bool ServerMayRefuse)
{
    public bool MustFail => Defects.Count > 0;

    /// <summary>The request as a person would replay it: method, path, headers and the body, bytes escaped.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append($"#{Index} [{Category}] {Raw.Method} {Shorten(Raw.PathAndQuery, 300)}{(Route is null ? "" : $"  (route {Route})")}\n");
        text.Append($"    caller: {Caller}\n");
        foreach (var (name, value) in Raw.Headers)
        {
            text.Append($"    {name}: {Shorten(value, 120)}\n");
        }

        if (Raw.ContentType is not null)
        {
            text.Append($"    Content-Type: {Raw.ContentType}\n");
        }

        if (Raw.Body is not null)
        {
            text.Append($"    body ({Raw.Body.Length} bytes{(Raw.Chunked ? ", chunked, no Content-Length" : "")}): {Printable(Raw.Body)}\n");
        }

        if (Defects.Count > 0)
        {
            text.Append($"    defects: {string.Join("; ", Defects)}\n");
        }

        return text.ToString();
    }

    /// <summary>Bytes as text with anything not printable ASCII written as \xNN, cut to a readable length.</summary>
    public static string Printable(byte[] bytes, int max = 400)
    {
        var text = new StringBuilder();
        foreach (var b in bytes.Take(max))
        {
            text.Append(b is >= 0x20 and < 0x7f ? ((char)b).ToString() : $"\\x{b:X2}");
        }

        return bytes.Length > max ? text + $"… (+{bytes.Length - max} bytes)" : text.ToString();
    }

    static string Shorten(string text, int max) => text.Length <= max ? text : text[..max] + $"… ({text.Length} chars)";
}
