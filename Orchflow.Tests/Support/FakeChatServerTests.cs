using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using ChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Orchflow.Tests.Support;

/// <summary>
/// The fake chat-completions server: reply order, what it records, and that the real OpenAI client understands it, as
/// Orchflow's adapter calls it (through Microsoft.Extensions.AI): whole or streamed, with text or function calls.
/// </summary>
[TestFixture]
public sealed partial class FakeChatServerTests
{
    FakeChatServer server = null!;
    HttpClient http = null!;

    [SetUp]
    public async Task StartAsync()
    {
        server = await FakeChatServer.StartAsync();
        http = new HttpClient { BaseAddress = server.BaseUri, Timeout = TimeSpan.FromSeconds(10) };
    }

    [TearDown]
    public async Task StopAsync()
    {
        http.Dispose();
        await server.DisposeAsync();
    }

    [Test]
    public async Task Post_QueuedRepliesThenResponder_ServedInOrder()
    {
        server.Enqueue(FakeReply.Chat("first"), FakeReply.BadRequest("second is refused"));
        server.Responder = request => FakeReply.Chat("responder saw " + request.Path);

        var first = await PostAsync("v1/chat/completions");
        var second = await PostAsync("v1/chat/completions");
        var third = await PostAsync("other/path");

        Assert.Multiple(() =>
        {
            Assert.That(first.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(first.Json["choices"]![0]!["message"]!["content"]!.GetValue<string>(), Is.EqualTo("first"));
            Assert.That(second.Status, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(second.Json["error"]!["message"]!.GetValue<string>(), Is.EqualTo("second is refused"));
            Assert.That(third.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(third.Json["choices"]![0]!["message"]!["content"]!.GetValue<string>(), Is.EqualTo("responder saw /other/path"));
            Assert.That(server.Requests.Select(r => r.Path), Is.EqualTo(new[] { "/v1/chat/completions", "/v1/chat/completions", "/other/path" }));
        });
    }

    [Test]
    public async Task Post_AzureStyleRequest_RecordsPathQueryHeadersBodyAndMessages()
    {
        const string body = """
            {
              "model": "gpt-test",
              "messages": [
                { "role": "system", "content": "Be brief." },
                { "role": "user", "content": "Earlier question" },
                { "role": "assistant", "content": null },
                { "role": "user", "content": [ { "type": "text", "text": "Part one, " }, { "type": "image_url", "image_url": { "url": "x" } }, { "type": "text", "text": "part two." } ] }
              ],
              "response_format": { "type": "json_object" }
            }
            """;
        using var message = new HttpRequestMessage(HttpMethod.Post, "openai/deployments/dep-1/chat/completions?api-version=2024-10-21")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        message.Headers.Add("api-key", "secret-key");

        using var response = await http.SendAsync(message);

        var record = server.Requests.Single();
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(record.Method, Is.EqualTo("POST"));
            Assert.That(record.Path, Is.EqualTo("/openai/deployments/dep-1/chat/completions"));
            Assert.That(record.Query, Is.EqualTo("?api-version=2024-10-21"));
            Assert.That(record.Header("API-KEY"), Is.EqualTo("secret-key"));
            Assert.That(record.Headers["content-type"], Does.StartWith("application/json"));
            Assert.That(record.Header("x-absent"), Is.Null);
            Assert.That(record.Body, Is.EqualTo(body));
            Assert.That(record.Model, Is.EqualTo("gpt-test"));
            Assert.That(record.Messages.Select(m => m.Role), Is.EqualTo(new[] { "system", "user", "assistant", "user" }));
            Assert.That(record.Messages[2].Content, Is.Empty);
            Assert.That(record.System, Is.EqualTo("Be brief."));
            Assert.That(record.LastUser, Is.EqualTo("Part one, part two."));
            Assert.That(record.ResponseFormat?["type"]?.GetValue<string>(), Is.EqualTo("json_object"));
        });
    }

    [Test]
    public async Task Post_BodyNotJson_RecordedWithoutParsedParts()
    {
        using var response = await http.PostAsync("v1/chat/completions", new StringContent("not json"));

        var record = server.Requests.Single();
        Assert.Multiple(() =>
        {
            Assert.That(record.Body, Is.EqualTo("not json"));
            Assert.That(record.Json, Is.Null);
            Assert.That(record.Model, Is.Null);
            Assert.That(record.Messages, Is.Empty);
            Assert.That(record.LastUser, Is.Null);
        });
    }

    [Test]
    public async Task Reset_AfterUse_ClearsQueueRequestsAndResponder()
    {
        server.Enqueue(FakeReply.ServerError());
        server.Responder = _ => FakeReply.Unauthorized();
        await PostAsync("a");

        server.Enqueue(FakeReply.ServerError());
        server.Reset();
        var after = await PostAsync("b");

        Assert.Multiple(() =>
        {
            Assert.That(after.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(after.Json["choices"]![0]!["message"]!["content"]!.GetValue<string>(), Is.EqualTo("Fake model output."));
            Assert.That(server.Requests.Select(r => r.Path), Is.EqualTo(new[] { "/b" }));
        });
    }

    static IEnumerable<TestCaseData> ErrorReplies()
    {
        yield return new TestCaseData(FakeReply.RateLimited(3), 429, "rate_limit_exceeded").SetArgDisplayNames("RateLimited");
        yield return new TestCaseData(FakeReply.ServerError(503), 503, "server_error").SetArgDisplayNames("ServerError");
        yield return new TestCaseData(FakeReply.Unauthorized(), 401, "invalid_request_error").SetArgDisplayNames("Unauthorized");
        yield return new TestCaseData(FakeReply.BadRequest("no"), 400, "invalid_request_error").SetArgDisplayNames("BadRequest");
    }

    [TestCaseSource(nameof(ErrorReplies))]
    public async Task Post_ErrorReply_HasStatusAndOpenAIErrorBody(FakeReply reply, int status, string type)
    {
        server.Enqueue(reply);

        var result = await PostAsync("v1/chat/completions");

        Assert.Multiple(() =>
        {
            Assert.That((int)result.Status, Is.EqualTo(status));
            Assert.That(result.MediaType, Is.EqualTo("application/json"));
            Assert.That(result.Json["error"]!["message"]!.GetValue<string>(), Is.Not.Empty);
            Assert.That(result.Json["error"]!["type"]!.GetValue<string>(), Is.EqualTo(type));
        });
    }

    [Test]
    public async Task CompleteChatAsync_ChatReply_ParsedByOpenAIClientWithUsage()
    {
        server.Enqueue(FakeReply.Chat("Hello \"quoted\"\nworld", promptTokens: 5, completionTokens: 3));

        ChatCompletion completion = await Client().CompleteChatAsync(new SystemChatMessage("Be brief."), new UserChatMessage("Hi"));

        var request = server.Requests.Single();
        Assert.Multiple(() =>
        {
            Assert.That(completion.Content.Single().Text, Is.EqualTo("Hello \"quoted\"\nworld"));
            Assert.That(completion.FinishReason, Is.EqualTo(OpenAI.Chat.ChatFinishReason.Stop));
            Assert.That(completion.Usage.InputTokenCount, Is.EqualTo(5));
            Assert.That(completion.Usage.OutputTokenCount, Is.EqualTo(3));
            Assert.That(completion.Usage.TotalTokenCount, Is.EqualTo(8));
            Assert.That(request.Path, Is.EqualTo("/v1/chat/completions"));
            Assert.That(request.Header("Authorization"), Is.EqualTo("Bearer k"));
            Assert.That(request.Model, Is.EqualTo("m"));
            Assert.That(request.System, Is.EqualTo("Be brief."));
            Assert.That(request.LastUser, Is.EqualTo("Hi"));
        });
    }

    [Test]
    public async Task CompleteChatAsync_ChatWithoutUsage_ParsedWithoutUsage()
    {
        server.Enqueue(FakeReply.ChatWithoutUsage("No usage here."));

        ChatCompletion completion = await Client().CompleteChatAsync(new UserChatMessage("Hi"));

        Assert.Multiple(() =>
        {
            Assert.That(completion.Content.Single().Text, Is.EqualTo("No usage here."));
            Assert.That(completion.Usage, Is.Null);
        });
    }

    [Test]
    public void CompleteChatAsync_RateLimited_ThrowsClientResultExceptionWithRetryAfter()
    {
        server.Enqueue(FakeReply.RateLimited(7));

        var error = Assert.ThrowsAsync<ClientResultException>(() => Client().CompleteChatAsync(new UserChatMessage("Hi")));

        string? retryAfter = null;
        var hasRetryAfter = error!.GetRawResponse()?.Headers.TryGetValue("Retry-After", out retryAfter) ?? false;
        Assert.Multiple(() =>
        {
            Assert.That(error.Status, Is.EqualTo(429));
            Assert.That(hasRetryAfter, Is.True);
            Assert.That(retryAfter, Is.EqualTo("7"));
            Assert.That(server.Requests, Has.Count.EqualTo(1), "no retries with ClientRetryPolicy(0)");
        });
    }

    [Test]
    public async Task CompleteChatAsync_ReplyAfterTheNetworkTimeout_ClientTimesOutAndTheServerDropsTheReply()
    {
        server.Enqueue(FakeReply.Chat("too late").After(TimeSpan.FromSeconds(30)));
        var client = Client(networkTimeout: TimeSpan.FromMilliseconds(300));

        Assert.CatchAsync<OperationCanceledException>(() => client.CompleteChatAsync(new UserChatMessage("Hi")));

        await WaitUntilAsync(() => server.DroppedReplies.Count > 0, "the server noticed the client had gone");
        Assert.That(server.DroppedReplies, Is.EqualTo(new[] { "client" }), "dropped because the client went away, not sent 30 s later");
    }

    [Test]
    public async Task DisposeAsync_DelayedReplyPending_CutsTheDelayShortAndDropsTheConnection()
    {
        server.Enqueue(FakeReply.Chat("never sent").After(TimeSpan.FromMinutes(1)));
        var pending = http.PostAsync("v1/chat/completions", new StringContent("{}"));
        await WaitUntilAsync(() => server.Requests.Count > 0, "the request reached the server");

        await server.DisposeAsync();

        Assert.Multiple(() =>
        {
            // Cut short by the server's own stop, not by Kestrel aborting the connection once its shutdown backstop ran out.
            Assert.That(server.DroppedReplies, Is.EqualTo(new[] { "stopping" }));
            Assert.ThrowsAsync<HttpRequestException>(() => pending);
        });
    }

    [Test]
    public async Task DisposeAsync_AfterServing_EndsKestrelsTimerThread()
    {
        Assert.That(Directory.Exists("/proc/self/task"), Is.True, "thread names are read from /proc/self/task, which this system lacks");
        await PostAsync("v1/chat/completions");
        var running = KestrelTimerThreads();
        Assert.That(running, Is.GreaterThanOrEqualTo(1), "precondition: Kestrel names its heartbeat thread \"Kestrel Timer\"");

        await server.DisposeAsync();

        await WaitUntilAsync(() => KestrelTimerThreads() < running, "Kestrel's timer thread ended");
        Assert.That(KestrelTimerThreads(), Is.EqualTo(running - 1));
    }

    // Other fixtures may run their own Kestrel in this process, so threads are counted, not looked for.
    static int KestrelTimerThreads() =>
        Directory.GetDirectories("/proc/self/task").Count(task => ThreadName(task) == "Kestrel Timer");

    static string ThreadName(string task)
    {
        try
        {
            return File.ReadAllText(Path.Combine(task, "comm")).Trim();
        }
        catch (IOException)
        {
            return ""; // the thread ended between listing and reading
        }
    }

    static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"not within 5 s: {what}");
            await Task.Delay(10);
        }
    }

    ChatClient Client(TimeSpan? networkTimeout = null) => new(
        model: "m",
        credential: new ApiKeyCredential("k"),
        options: new OpenAIClientOptions
        {
            Endpoint = new Uri(server.BaseUri, "v1"),
            RetryPolicy = new ClientRetryPolicy(0),
            NetworkTimeout = networkTimeout,
        });

    async Task<(HttpStatusCode Status, JsonNode Json, string? MediaType)> PostAsync(string path)
    {
        using var response = await http.PostAsync(path, new StringContent("""{"model":"x","messages":[]}""", Encoding.UTF8, "application/json"));
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return (response.StatusCode, json, response.Content.Headers.ContentType?.MediaType);
    }
}
