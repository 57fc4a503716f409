using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Infrastructure.Network;

namespace Orchflow.Tools;

/// <summary>
/// The built-in <c>fetch_url</c>: GETs one public http(s) page under the address policy and gives its readable text.
/// Reads at most <see cref="ToolLimits.MaxFetchBytes"/> as sent and as decompressed, follows no redirect (it says
/// where one points), sends no cookie and uses no proxy; the text is cut to <see cref="ToolLimits.MaxResultChars"/>.
/// </summary>
public sealed partial class FetchUrlTool(ToolHttp http, AddressPolicy policy, IOptions<ToolOptions> options)
{
    public const string Name = "fetch_url";
    public const int MaxUrlLength = 2_000;

    public static readonly ToolDefinition Definition = new(
        Name,
        "Reads a public web page (http or https) and returns its text: the title, then the page with scripts, styles and " +
        "markup removed, at most 64 KiB. Redirects are not followed: the answer says where one points.",
        """{"type":"object","properties":{"url":{"type":"string","description":"The absolute http or https address of the page."}},"required":["url"],"additionalProperties":false}""");

    public async Task<(ToolCallOutcome Kind, ToolOutcome Outcome)> CallAsync(string argumentsJson, CancellationToken cancellationToken)
    {
        if (Address(argumentsJson) is not { } url)
        {
            return Refused($"fetch_url takes {{\"url\": \"https://…\"}}: an absolute http or https address of at most {MaxUrlLength} characters, without user:password@.");
        }

        if (policy.LiteralRefusal(url) is not null)
        {
            return Refused($"fetch_url does not read {url.Host}: it is a private or local address, and only public pages are read.");
        }

        var timeout = options.Value.CallTimeout;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd("text/html, application/xhtml+xml, text/plain;q=0.9, application/json;q=0.8, */*;q=0.1");
            request.Headers.AcceptEncoding.ParseAdd("gzip, deflate, br");
            using var response = await http.Pages.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            return await ReadAsync(url, response, limit.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && ToolFailures.Describe(e, url.AbsoluteUri, timeout, cancellationToken) is { } failure)
        {
            return (failure.Outcome, ToolOutcome.Failed(failure.Message));
        }
    }

    static async Task<(ToolCallOutcome, ToolOutcome)> ReadAsync(Uri url, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        if (status is >= 300 and < 400)
        {
            var target = response.Headers.Location is { } location ? new Uri(url, location).AbsoluteUri : null;
            return Failed(target is null
                ? $"{url} answered {status}, a redirect with no address, and fetch_url follows no redirects."
                : $"{url} answered {status}: the page has moved to {target}. fetch_url follows no redirects; call it again with that address to read it.");
        }

        if (!response.IsSuccessStatusCode)
        {
            return Failed($"{url} answered {status} {response.ReasonPhrase}.".Replace(" .", ".", StringComparison.Ordinal));
        }

        var type = response.Content.Headers.ContentType?.MediaType?.ToLowerInvariant();
        if (type is not null && !IsText(type))
        {
            return Failed($"{url} is {type}, which fetch_url does not read: it reads HTML and text pages.");
        }

        await using var raw = new LimitedStream(await response.Content.ReadAsStreamAsync(cancellationToken), ToolLimits.MaxFetchBytes);
        if (Decompressed(raw, response.Content.Headers.ContentEncoding) is not { } decoded)
        {
            return Failed($"{url} answered in an encoding fetch_url does not read ({string.Join(", ", response.Content.Headers.ContentEncoding)}).");
        }

        await using var body = new LimitedStream(decoded, ToolLimits.MaxFetchBytes);
        using var bytes = new MemoryStream();
        try
        {
            await body.CopyToAsync(bytes, cancellationToken);
        }
        catch (InvalidDataException) when (raw.Exceeded)
        {
            // Compressed data cut at the limit ends mid-stream: what was decompressed before stands.
        }

        var cut = raw.Exceeded || body.Exceeded;
        var content = bytes.GetBuffer().AsSpan(0, (int)bytes.Length);
        var html = type is "text/html" or "application/xhtml+xml" || (type is null && content.TrimStart(" \t\r\n"u8).StartsWith("<"u8));
        var text = CharsetOf(response.Content.Headers.ContentType, html ? content : default).GetString(content);
        var (title, page) = html ? HtmlText.Reduce(text) : (null, text.Trim());

        var result = new StringBuilder();
        if (title is not null)
        {
            result.Append("Title: ").Append(title).Append('\n');
        }

        result.Append("Source: ").Append(url.AbsoluteUri).Append('\n');
        if (cut)
        {
            result.Append($"[Orchflow read the first {ToolLimits.MaxFetchBytes / (1024 * 1024)} MiB of this page; the rest was not read.]\n");
        }

        result.Append('\n').Append(page.Length > 0 ? page : "(The page has no readable text.)");
        return (ToolCallOutcome.Ok, ToolOutcome.Succeeded(ToolResults.Cut(result.ToString())));
    }

    static Uri? Address(string argumentsJson)
    {
        try
        {
            using var document = JsonDocument.Parse(string.IsNullOrWhiteSpace(argumentsJson) ? "{}" : argumentsJson);
            return document.RootElement.ValueKind == JsonValueKind.Object &&
                   document.RootElement.TryGetProperty("url", out var value) && value.ValueKind == JsonValueKind.String &&
                   value.GetString() is { Length: > 0 and <= MaxUrlLength } text &&
                   Uri.TryCreate(text.Trim(), UriKind.Absolute, out var url) && url.Scheme is "http" or "https" &&
                   url.UserInfo.Length == 0 && url.IdnHost.Length > 0
                ? url
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    static bool IsText(string type) =>
        type.StartsWith("text/", StringComparison.Ordinal) || type is "application/xhtml+xml" or "application/json" or "application/xml" ||
        type.EndsWith("+json", StringComparison.Ordinal) || type.EndsWith("+xml", StringComparison.Ordinal);

    /// <summary>The body as sent, decompressed; null for an encoding no stream here reads.</summary>
    static Stream? Decompressed(Stream raw, ICollection<string> encodings) => encodings.Select(e => e.ToLowerInvariant()).ToList() switch
    {
        [] or ["identity"] => raw,
        ["gzip"] or ["x-gzip"] => new GZipStream(raw, CompressionMode.Decompress),
        ["br"] => new BrotliStream(raw, CompressionMode.Decompress),
        ["deflate"] => new ZLibStream(raw, CompressionMode.Decompress),
        _ => null,
    };

    /// <summary>The charset the header names, else the one an HTML page declares in its first bytes, else UTF-8.</summary>
    static Encoding CharsetOf(MediaTypeHeaderValue? type, ReadOnlySpan<byte> html)
    {
        var name = type?.CharSet?.Trim('"');
        if (string.IsNullOrEmpty(name) && !html.IsEmpty)
        {
            var head = Encoding.ASCII.GetString(html[..Math.Min(html.Length, 2048)]);
            name = MetaCharset().Match(head) is { Success: true } match ? match.Groups[1].Value : null;
        }

        try
        {
            return string.IsNullOrEmpty(name) ? Encoding.UTF8 : Encoding.GetEncoding(name);
        }
        catch (ArgumentException)
        {
            return Encoding.UTF8;
        }
    }

    [GeneratedRegex("""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", RegexOptions.IgnoreCase)]
    private static partial Regex MetaCharset();

    static (ToolCallOutcome, ToolOutcome) Failed(string message) => (ToolCallOutcome.Failed, ToolOutcome.Failed(message));

    static (ToolCallOutcome, ToolOutcome) Refused(string message) => (ToolCallOutcome.Refused, ToolOutcome.Failed(message));
}
