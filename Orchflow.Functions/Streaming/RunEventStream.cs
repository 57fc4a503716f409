using System.Buffers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Orchflow.Domain;
using Orchflow.Functions.Contracts;
using Orchflow.Functions.Http;
using Orchflow.Telemetry;

namespace Orchflow.Functions.Streaming;

/// <summary>
/// A run's log as Server-Sent Events: each event with its sequence as id and its type as event name, formatted by
/// <see cref="SseFormatter"/> and flushed at once; a <c>: ping</c> comment after each silent heartbeat interval (the
/// one line the formatter has no item for); closed after the run's terminal event, and when the host stops, so a
/// graceful stop is not held up by clients watching runs (they reconnect with <c>Last-Event-ID</c> to the next instance).
/// </summary>
public sealed class RunEventStream(RunEventHub hub, string runId, long after, TimeSpan heartbeat, CancellationToken stopping) : IActionResult
{
    static readonly byte[] Ping = ": ping\n\n"u8.ToArray();

    public async Task ExecuteResultAsync(ActionContext context)
    {
        var http = context.HttpContext;
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache, no-transform";
        response.Headers["X-Content-Type-Options"] = "nosniff";
        // Proxies that buffer (nginx) are told not to; nothing here compresses or buffers the stream either.
        response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        using var subscription = hub.Subscribe(runId, after);
        using var open = OrchflowTelemetry.StreamOpened();
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
        try
        {
            await response.Body.FlushAsync(ended.Token);
            await SseFormatter.WriteAsync(ItemsAsync(subscription, response.Body, ended.Token), response.Body, Write, ended.Token);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
        {
            // The host is stopping: the response ends here, every event sent so far whole.
        }
    }

    async IAsyncEnumerable<SseItem<RunLogEntry>> ItemsAsync(RunSubscription subscription, Stream body, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            var entries = await subscription.NextAsync(heartbeat, cancellationToken);
            if (entries.Count == 0)
            {
                await body.WriteAsync(Ping, cancellationToken);
                await body.FlushAsync(cancellationToken);
                continue;
            }

            foreach (var entry in entries)
            {
                yield return new SseItem<RunLogEntry>(entry, entry.Type) { EventId = entry.Sequence.ToString() };
                // The formatter has written the event by the time it asks for the next one: send it now.
                await body.FlushAsync(cancellationToken);
                if (entry.IsTerminal)
                {
                    yield break;
                }
            }
        }
    }

    static void Write(SseItem<RunLogEntry> item, IBufferWriter<byte> buffer)
    {
        using var writer = new Utf8JsonWriter(buffer);
        JsonSerializer.Serialize(writer, RunLogEntryView.Of(item.Data), ApiJson.Options);
    }
}
