using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Orchflow.Tests.Support;

/// <summary>
/// A loopback endpoint that receives webhooks: every request is recorded with the moment it arrived, and each path
/// answers from its own script (the next reply queued for it, then its standing reply, by default 200). Built on
/// <see cref="FakeChatServer"/>, which already serves and records any request.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    readonly FakeChatServer server;
    readonly ConcurrentQueue<ReceivedWebhook> received = new();
    readonly ConcurrentDictionary<string, ConcurrentQueue<FakeReply>> scripts = new();
    readonly ConcurrentDictionary<string, FakeReply> standing = new();

    WebhookReceiver(FakeChatServer server)
    {
        this.server = server;
        server.Responder = Answer;
    }

    public static async Task<WebhookReceiver> StartAsync() => new(await FakeChatServer.StartAsync());

    /// <summary>http://127.0.0.1:{port}/{path}</summary>
    public string Url(string path) => new Uri(server.BaseUri, path.TrimStart('/')).ToString();

    /// <summary>Replies served in order to the next requests on <paramref name="path"/>; after them its standing reply.</summary>
    public void Script(string path, params FakeReply[] replies)
    {
        var queue = scripts.GetOrAdd(Normalize(path), _ => new ConcurrentQueue<FakeReply>());
        foreach (var reply in replies)
        {
            queue.Enqueue(reply);
        }
    }

    /// <summary>What <paramref name="path"/> answers once its script is used up.</summary>
    public void Always(string path, FakeReply reply) => standing[Normalize(path)] = reply;

    public IReadOnlyList<ReceivedWebhook> All => received.ToArray();

    public IReadOnlyList<ReceivedWebhook> At(string path) => received.Where(r => r.Path == Normalize(path)).ToList();

    /// <summary>Waits until <paramref name="path"/> has received at least <paramref name="count"/> requests.</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(string path, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var got = At(path);
            if (got.Count >= count)
            {
                return got;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{path} received {got.Count} of {count} webhooks in {timeout.TotalSeconds:0} s: " +
                            string.Join(", ", got.Select(r => r.Type)));
            }

            await Task.Delay(20);
        }
    }

    public static FakeReply Ok() => new(200, "");

    public static FakeReply Status(int status, params (string Name, string Value)[] headers) =>
        new(status, "", headers.ToDictionary(h => h.Name, h => h.Value));

    /// <summary>Answers 200, but only after <paramref name="delay"/>: longer than the sender waits is a timeout.</summary>
    public static FakeReply Hang(TimeSpan delay) => new FakeReply(200, "").After(delay);

    FakeReply Answer(ChatRequestRecord request)
    {
        var at = DateTimeOffset.UtcNow;
        var path = Normalize(request.Path);
        received.Enqueue(new ReceivedWebhook(path, request.Headers, request.Body, at));
        return scripts.TryGetValue(path, out var queue) && queue.TryDequeue(out var next) ? next
            : standing.TryGetValue(path, out var always) ? always
            : Ok();
    }

    static string Normalize(string path) => "/" + path.TrimStart('/');

    public ValueTask DisposeAsync() => server.DisposeAsync();
}

/// <summary>One webhook request as the receiver got it.</summary>
public sealed record ReceivedWebhook(string Path, IReadOnlyDictionary<string, string> Headers, string Body, DateTimeOffset ReceivedAt)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public string Id => Header("webhook-id") ?? "";

    public JsonNode Json => JsonNode.Parse(Body)!;

    public string Type => Json["type"]?.GetValue<string>() ?? "";
}
