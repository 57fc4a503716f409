using System.Net;
using System.Text.Json;
using Orchflow.Infrastructure.Network;
using Orchflow.Models;

namespace Orchflow.Tools;

/// <summary>
/// The HTTP connections tools travel on: to the addresses the <see cref="AddressPolicy"/> allows, checked when each
/// connection is made, so a name that resolves inward is refused too; no redirect followed, no cookie kept, no proxy.
/// <see cref="Mcp"/> also refuses what no MCP server answers (a redirect, an HTML page, JSON that does not parse, a body
/// over <see cref="MaxMcpResponseBytes"/> as sent or as decompressed); <see cref="Pages"/> leaves reading and
/// decompressing to <c>fetch_url</c>, which caps both.
/// </summary>
public sealed class ToolHttp : IDisposable
{
    /// <summary>The most of one MCP answer read: a tool list of 128 large schemas fits many times over.</summary>
    public const int MaxMcpResponseBytes = 4 * 1024 * 1024;

    public ToolHttp(AddressPolicy policy)
    {
        var capped = new CappedResponses(MaxMcpResponseBytes, _ => McpAnswers.TooLarge()) { InnerHandler = Handler(policy) };
        Mcp = new HttpClient(new McpAnswers { InnerHandler = capped }) { Timeout = Timeout.InfiniteTimeSpan };
        Mcp.DefaultRequestHeaders.UserAgent.ParseAdd("Orchflow-Tools/1.0");
        Pages = new HttpClient(Handler(policy)) { Timeout = Timeout.InfiniteTimeSpan };
        Pages.DefaultRequestHeaders.UserAgent.ParseAdd("Orchflow-fetch_url/1.0");
    }

    /// <summary>For MCP servers; requests are bounded by the caller's token.</summary>
    public HttpClient Mcp { get; }

    /// <summary>For <c>fetch_url</c>; answers come compressed as sent, so that the bytes read can be counted before and after.</summary>
    public HttpClient Pages { get; }

    static SocketsHttpHandler Handler(AddressPolicy policy) => new()
    {
        // A redirect would take the server's secret headers, or a page's request, to an address nobody checked.
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        // Decompressed by CappedResponses or by fetch_url, which count the bytes as sent and as decompressed.
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(15),
        ConnectCallback = policy.Connect(host => new BlockedEndpointException(
            $"{host} is a private or local address, which this deployment does not call.")),
    };

    public void Dispose()
    {
        Mcp.Dispose();
        Pages.Dispose();
    }

    /// <summary>Refuses, in words, an answer no MCP server gives, before the SDK reads it; caps the body of the rest.</summary>
    sealed class McpAnswers : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400)
            {
                var location = response.Headers.Location?.ToString();
                response.Dispose();
                throw new ToolServerAnswerException(
                    $"it answered {status} (a redirect{(location is null ? "" : " to " + location)}); redirects are not followed: register the address it points to");
            }

            var type = response.Content.Headers.ContentType?.MediaType;
            if (request.Method == HttpMethod.Post && status == 200 && type is not ("application/json" or "text/event-stream"))
            {
                response.Dispose();
                throw new ToolServerAnswerException(
                    $"it answered 200 with {(type is null ? "no content type" : type)}, not an MCP message (application/json or text/event-stream)");
            }

            if (type == "application/json")
            {
                // Read whole (it is one message) and checked here, so that garbage is told as garbage: the SDK passes
                // over a line it cannot parse and reports only that no reply came.
                var body = await ReadAsync(response.Content, cancellationToken);
                if (!IsJson(body))
                {
                    response.Dispose();
                    throw new ToolServerAnswerException("its answer is not valid JSON");
                }

                var content = new ByteArrayContent(body);
                foreach (var header in response.Content.Headers)
                {
                    content.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }

                response.Content.Dispose();
                response.Content = content;
                return response;
            }

            return response;
        }

        /// <summary>The whole answer, capped below (<see cref="CappedResponses"/>).</summary>
        static Task<byte[]> ReadAsync(HttpContent content, CancellationToken cancellationToken) => content.ReadAsByteArrayAsync(cancellationToken);

        static bool IsJson(byte[] body)
        {
            if (body.Length == 0)
            {
                return true;
            }

            try
            {
                var reader = new Utf8JsonReader(body);
                while (reader.Read())
                {
                }

                return true;
            }
            catch (JsonException)
            {
                return false;
            }
        }

        public static ToolServerAnswerException TooLarge() =>
            new($"it answered more than {MaxMcpResponseBytes / (1024 * 1024)} MiB, the most Orchflow reads of one answer");
    }
}

/// <summary>A tool server answered something Orchflow does not take; the message continues "The tool server …: ".</summary>
public sealed class ToolServerAnswerException(string message) : Exception(message);
