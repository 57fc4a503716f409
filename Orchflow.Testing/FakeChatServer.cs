using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Orchflow.Testing;

/// <summary>
/// A loopback HTTP server that answers like the OpenAI chat-completions API, for tests and the bench that drive the
/// model adapters over real HTTP. Every request, on any path, is recorded and then answered with the next queued
/// reply, or by <see cref="Responder"/> when the queue is empty. A request with <c>"stream": true</c> gets a
/// completion as Server-Sent Events chunks ending with <c>data: [DONE]</c>; each piece of content written is recorded
/// with the time it was written (<see cref="StreamWrites"/>).
/// </summary>
public sealed partial class FakeChatServer : IAsyncDisposable
{
    static readonly Func<ChatRequestRecord, FakeReply> DefaultResponder = _ => FakeReply.Chat("Fake model output.");

    readonly object gate = new();
    readonly Queue<FakeReply> queue = new();
    readonly List<ChatRequestRecord> requests = [];
    readonly List<string> dropped = [];
    readonly List<StreamWrite> written = [];
    readonly CancellationTokenSource stopping = new();
    Func<ChatRequestRecord, FakeReply> responder = DefaultResponder;
    WebApplication? app;
    int disposed;

    FakeChatServer()
    {
    }

    /// <summary>http://127.0.0.1:{port}/</summary>
    public Uri BaseUri { get; private set; } = null!;

    /// <summary>A snapshot of the requests received so far, in arrival order.</summary>
    public IReadOnlyList<ChatRequestRecord> Requests
    {
        get
        {
            lock (gate)
            {
                return requests.ToArray();
            }
        }
    }

    /// <summary>
    /// Why each delayed reply was never sent, in order: "client" when the client went away first, "stopping" when the
    /// server was stopped first and cut the delay short.
    /// </summary>
    public IReadOnlyList<string> DroppedReplies
    {
        get
        {
            lock (gate)
            {
                return dropped.ToArray();
            }
        }
    }

    /// <summary>The pieces of content streamed so far, in the order they were flushed.</summary>
    public IReadOnlyList<StreamWrite> StreamWrites
    {
        get
        {
            lock (gate)
            {
                return written.ToArray();
            }
        }
    }

    /// <summary>Answers requests while the queue is empty; by default a 200 chat completion saying "Fake model output.".</summary>
    public Func<ChatRequestRecord, FakeReply> Responder
    {
        get
        {
            lock (gate)
            {
                return responder;
            }
        }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (gate)
            {
                responder = value;
            }
        }
    }

    public static async Task<FakeChatServer> StartAsync()
    {
        var server = new FakeChatServer();
        // The shutdown backstop is for handlers that do not end on their own (a blocking responder).
        (server.app, server.BaseUri) = await LoopbackApp.StartAsync(server.HandleAsync, TimeSpan.FromSeconds(1.5));
        return server;
    }

    /// <summary>Queues replies served, in order, to the next requests on any path.</summary>
    public void Enqueue(params FakeReply[] replies)
    {
        lock (gate)
        {
            foreach (var reply in replies)
            {
                queue.Enqueue(reply);
            }
        }
    }

    /// <summary>Clears the queue, the recorded requests and stream writes, and restores the default responder.</summary>
    public void Reset()
    {
        lock (gate)
        {
            queue.Clear();
            requests.Clear();
            written.Clear();
            responder = DefaultResponder;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        // Ends pending delayed replies first, so Kestrel's graceful stop has nothing left to wait for.
        await stopping.CancelAsync();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        stopping.Dispose();
    }

    async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var record = new ChatRequestRecord(request.Method, request.PathBase + request.Path, request.QueryString.Value ?? "",
            headers, body) { ReceivedAt = Stopwatch.GetTimestamp() };

        FakeReply? reply;
        Func<ChatRequestRecord, FakeReply> fallback;
        lock (gate)
        {
            requests.Add(record);
            queue.TryDequeue(out reply);
            fallback = responder;
        }

        reply ??= fallback(record);

        if (!await PauseAsync(context, reply.Delay))
        {
            return;
        }

        if (reply.Writer is { } writer)
        {
            await WriteAsync(context, record, reply, writer);
            return;
        }

        if (record.Stream && reply.Completion is { } completion)
        {
            await StreamAsync(context, record, reply, completion);
            return;
        }

        if (record.Stream && reply.StreamBody is { } events)
        {
            await StreamRawAsync(context, record, reply, events);
            return;
        }

        var response = context.Response;
        response.StatusCode = reply.Status;
        foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>())
        {
            response.Headers[name] = value;
        }

        var bytes = Encoding.UTF8.GetBytes(reply.Body);
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, context.RequestAborted);
        Answered(record);
    }

    void Answered(ChatRequestRecord record)
    {
        var at = Stopwatch.GetTimestamp();
        lock (gate)
        {
            record.AnsweredAt = at;
        }
    }

    /// <summary>
    /// Waits <paramref name="delay"/> before the next write; false, with the connection dropped and why recorded, when the
    /// client gave up or the server is stopping first.
    /// </summary>
    async Task<bool> PauseAsync(HttpContext context, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            return true;
        }

        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping.Token);
        try
        {
            await Task.Delay(delay, waiting.Token);
            return true;
        }
        catch (OperationCanceledException) when (waiting.IsCancellationRequested)
        {
            lock (gate)
            {
                dropped.Add(context.RequestAborted.IsCancellationRequested ? "client" : "stopping");
            }

            context.Abort();
            return false;
        }
    }
}
