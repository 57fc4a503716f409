using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchflow.Tests.Support;

/// <summary>
/// A request exactly as it goes on the wire: the path is sent as written (no dot-segment removal, no re-escaping),
/// the body is bytes, headers are added without validation (Content-* ones to the body), and the body may be sent
/// chunked (no Content-Length).
/// </summary>
public sealed record RawRequest(
    string Method,
    string PathAndQuery,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[]? Body = null,
    string? ContentType = null,
    bool Chunked = false);

/// <summary>What came back for a <see cref="RawRequest"/>; <see cref="TransportError"/> is set when nothing did.</summary>
public sealed record RawResponse(
    int Status,
    IReadOnlyDictionary<string, string> Headers,
    string Text,
    string? MediaType,
    JsonNode? Json,
    string? JsonError,
    string? TransportError)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public string? Code => Json is JsonObject o && o["code"] is JsonValue v && v.TryGetValue(out string? code) ? code : null;
}

/// <summary>Sends <see cref="RawRequest"/>s to one host; safe to share between concurrent senders.</summary>
public sealed class RawHttpClient : IDisposable
{
    static readonly UriCreationOptions AsWritten = new() { DangerousDisablePathAndQueryCanonicalization = true };

    readonly HttpClient http;
    readonly string origin;

    public RawHttpClient(Uri anyAddressOfTheHost)
    {
        origin = anyAddressOfTheHost.GetLeftPart(UriPartial.Authority);
        http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
        })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public async Task<RawResponse> SendAsync(RawRequest request, CancellationToken cancellationToken = default)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(origin + request.PathAndQuery, AsWritten));
        static bool IsContentHeader(KeyValuePair<string, string> h) => h.Key.StartsWith("Content-", StringComparison.OrdinalIgnoreCase);
        var contentHeaders = request.Headers.Where(IsContentHeader).ToList();
        foreach (var (name, value) in request.Headers.Where(h => !IsContentHeader(h)))
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        if (request.Body is not null || request.ContentType is not null || contentHeaders.Count > 0)
        {
            var body = request.Body ?? [];
            HttpContent content = request.Chunked ? new ChunkedContent(body) : new ByteArrayContent(body);
            if (request.ContentType is not null)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
            }

            foreach (var (name, value) in contentHeaders)
            {
                content.Headers.TryAddWithoutValidation(name, value);
            }

            message.Content = content;
        }

        try
        {
            using var response = await http.SendAsync(message, cancellationToken);
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                headers[name] = string.Join(", ", values);
            }

            var text = Encoding.UTF8.GetString(bytes);
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            JsonNode? json = null;
            string? jsonError = null;
            if (bytes.Length > 0 && mediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
            {
                try
                {
                    json = JsonNode.Parse(bytes);
                }
                catch (JsonException e)
                {
                    jsonError = e.Message;
                }
            }

            return new RawResponse((int)response.StatusCode, headers, text, mediaType, json, jsonError, null);
        }
        catch (HttpRequestException e)
        {
            return new RawResponse(0, new Dictionary<string, string>(), "", null, null, null, $"{e.GetType().Name}: {e.Message}");
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            return new RawResponse(0, new Dictionary<string, string>(), "", null, null, null, "timed out: " + e.Message);
        }
    }

    public void Dispose() => http.Dispose();

    /// <summary>A body of unknown length, so the client sends it with Transfer-Encoding: chunked.</summary>
    sealed class ChunkedContent(byte[] body) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < body.Length; offset += 8192)
            {
                await stream.WriteAsync(body.AsMemory(offset, Math.Min(8192, body.Length - offset)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
