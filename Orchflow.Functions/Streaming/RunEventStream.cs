using System.Buffers;
using System.Globalization;
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
/// <see cref="SseFormatter"/> and flushed at once; between them, unless turned off (<paramref name="output"/>), the text
/// tasks write as <c>task.output.delta</c> items with no id; a <c>: ping</c> comment after each silent heartbeat interval
/// (the one line the formatter has no item for); closed after the run's terminal event, after the longest a stream may
/// live (<see cref="StreamOptions.MaxLifetimeSeconds"/>), and when the host stops, so a graceful stop is not held up by
/// clients watching runs: they reconnect with <c>Last-Event-ID</c>. The stream holds its caller's
/// <paramref name="permit"/> (<see cref="StreamQuota"/>) until it ends.
/// </summary>
public sealed class RunEventStream(
    RunEventHub hub, string runId, long after, bool output, StreamOptions options, IDisposable permit, CancellationToken stopping) : IActionResult
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

        using var held = permit;
        using var subscription = hub.Subscribe(runId, after, output);
        using var open = OrchflowTelemetry.StreamOpened();
        using var expiry = new CancellationTokenSource(TimeSpan.FromSeconds(options.MaxLifetimeSeconds), hub.Clock);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping, expiry.Token);
        try
        {
            await response.Body.FlushAsync(ended.Token);
            await SseFormatter.WriteAsync(ItemsAsync(subscription, response.Body, ended.Token), response.Body, Write, ended.Token);
        }
        catch (OperationCanceledException) when ((stopping.IsCancellationRequested || expiry.IsCancellationRequested) && !http.RequestAborted.IsCancellationRequested)
        {
            // The host is stopping, or the stream has lived its longest: the response ends here, every event sent so far whole.
        }
    }

    async IAsyncEnumerable<SseItem<StreamItem>> ItemsAsync(RunSubscription subscription, Stream body, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            var items = await subscription.NextAsync(TimeSpan.FromSeconds(options.HeartbeatSeconds), cancellationToken);
            if (subscription.Over)
            {
                // The client had the run's last event before it connected: the stream ends, and its reconnect is told so.
                yield break;
            }

            if (items.Count == 0)
            {
                await body.WriteAsync(Ping, cancellationToken);
                await body.FlushAsync(cancellationToken);
                continue;
            }

            for (var i = 0; i < items.Count; i++)
            {
                var item = items[i];
                yield return item.Entry is { } entry
                    ? new SseItem<StreamItem>(item, entry.Type) { EventId = entry.Sequence.ToString(CultureInfo.InvariantCulture) }
                    : new SseItem<StreamItem>(item, OutputDelta.EventType);
                if (i == items.Count - 1 || item.Entry?.IsTerminal == true)
                {
                    // The formatter has written the item by the time it asks for the next one: what came together is sent
                    // together, now.
                    await body.FlushAsync(cancellationToken);
                }

                if (item.Entry?.IsTerminal == true)
                {
                    yield break;
                }
            }
        }
    }

    static void Write(SseItem<StreamItem> item, IBufferWriter<byte> buffer)
    {
        using var writer = new Utf8JsonWriter(buffer);
        if (item.Data.Entry is { } entry)
        {
            JsonSerializer.Serialize(writer, RunLogEntryView.Of(entry), ApiJson.Options);
        }
        else
        {
            JsonSerializer.Serialize(writer, item.Data.Delta!, ApiJson.Options);
        }
    }
}
