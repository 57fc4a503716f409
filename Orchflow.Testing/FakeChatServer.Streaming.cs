using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Orchflow.Testing;

/// <summary>The fake chat server's streamed answers: a completion as <c>chat.completion.chunk</c> events, each flushed as written.</summary>
public sealed partial class FakeChatServer
{
    async Task StreamAsync(HttpContext context, ChatRequestRecord record, FakeReply reply, FakeCompletion completion)
    {
        var response = context.Response;
        response.StatusCode = reply.Status;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var offset = 0;
        foreach (var (json, content) in completion.Chunks(record.IncludeUsage))
        {
            // The first piece of content goes at once; each later one after the reply's interval.
            if (content is not null && offset > 0 && !await PauseAsync(context, reply.ChunkInterval))
            {
                return;
            }

            if (content is not null)
            {
                // Stamped before the write, so no client can have read the piece before its stamp.
                var at = Stopwatch.GetTimestamp();
                lock (gate)
                {
                    written.Add(new StreamWrite(record, offset, content, at));
                }

                offset += content.Length;
            }

            await WriteEventAsync(response, json, context.RequestAborted);
        }

        await WriteEventAsync(response, "[DONE]", context.RequestAborted);
        Answered(record);
    }

    async Task StreamRawAsync(HttpContext context, ChatRequestRecord record, FakeReply reply, string events)
    {
        context.Response.StatusCode = reply.Status;
        context.Response.ContentType = "text/event-stream";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(events), context.RequestAborted);
        Answered(record);
    }

    /// <summary>A reply that writes its own body: until it ends, the client goes away or the server stops.</summary>
    async Task WriteAsync(HttpContext context, ChatRequestRecord record, FakeReply reply, Func<Stream, CancellationToken, Task> writer)
    {
        var response = context.Response;
        response.StatusCode = reply.Status;
        foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>())
        {
            response.Headers[name] = value;
        }

        using var writing = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping.Token);
        try
        {
            await response.StartAsync(writing.Token);
            await writer(response.Body, writing.Token);
            Answered(record);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            lock (gate)
            {
                dropped.Add(context.RequestAborted.IsCancellationRequested ? "client" : "stopping");
            }

            context.Abort();
        }
    }

    static async Task WriteEventAsync(HttpResponse response, string data, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes($"data: {data}\n\n"), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}

/// <summary>
/// One piece of a streamed answer's content: the request it answered, its character offset in that answer's content,
/// and when it was written to the client (<see cref="Stopwatch.GetTimestamp"/>).
/// </summary>
public sealed record StreamWrite(ChatRequestRecord Request, int Offset, string Text, long Timestamp);
