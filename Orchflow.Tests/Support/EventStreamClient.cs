using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;

namespace Orchflow.Tests.Support;

/// <summary>
/// Watches a run's events as a browser or a backend would: <c>Accept: text/event-stream</c>, read with .NET's own
/// <see cref="SseParser"/>, optionally resuming from a <c>Last-Event-ID</c>.
/// </summary>
public sealed class EventStreamClient(Uri baseAddress, string apiKey) : IDisposable
{
    readonly HttpClient http = new() { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>Opens the stream; the caller reads <see cref="EventStream.Events"/> and disposes it to drop the connection.</summary>
    public async Task<EventStream> OpenAsync(string runId, string? lastEventId = null, string? query = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"runs/{runId}/events{query}");
        request.Headers.Add("X-API-Key", apiKey);
        request.Headers.Add("Accept", "text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return new EventStream(request, response, response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStreamAsync() : null);
    }

    public void Dispose() => http.Dispose();
}

/// <summary>One open stream: its response, and its events as they arrive.</summary>
public sealed class EventStream(HttpRequestMessage request, HttpResponseMessage response, Stream? body) : IAsyncDisposable
{
    public HttpResponseMessage Response => response;

    /// <summary>The events in arrival order; ends when the server closes the stream.</summary>
    public IAsyncEnumerable<SseItem<JsonObject>> Events(CancellationToken cancellationToken = default) =>
        SseParser.Create(body ?? throw new InvalidOperationException($"The stream was answered {response.StatusCode}."),
                (type, data) => JsonNode.Parse(data)!.AsObject())
            .EnumerateAsync(cancellationToken);

    /// <summary>The raw body, for what the parser does not hand out (comments).</summary>
    public Stream Body => body ?? throw new InvalidOperationException($"The stream was answered {response.StatusCode}.");

    public ValueTask DisposeAsync()
    {
        body?.Dispose();
        response.Dispose();
        request.Dispose();
        return ValueTask.CompletedTask;
    }
}
