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

/// <summary>The loopback model server streaming its replies and speaking tool calls, as the OpenAI client reads them.</summary>
public sealed partial class FakeChatServerTests
{
    [Test]
    public async Task GetStreamingResponseAsync_ChatReply_TextArrivesWordByWordWithUsageLast()
    {
        server.Enqueue(FakeReply.Chat("Streamed words, \"quoted\"\nand more.", promptTokens: 5, completionTokens: 3));

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in Client().AsIChatClient().GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")]))
        {
            updates.Add(update);
        }

        var response = updates.ToChatResponse();
        var request = server.Requests.Single();
        Assert.Multiple(() =>
        {
            Assert.That(request.Stream, Is.True);
            Assert.That(request.IncludeUsage, Is.True, "the OpenAI client asks for the usage of a stream");
            Assert.That(response.Text, Is.EqualTo("Streamed words, \"quoted\"\nand more."));
            Assert.That(updates.Select(u => u.Text).Where(t => t.Length > 0), Is.EqualTo(new[] { "Streamed ", "words, ", "\"quoted\"\n", "and ", "more." }));
            Assert.That(response.FinishReason, Is.EqualTo(Microsoft.Extensions.AI.ChatFinishReason.Stop));
            Assert.That(response.Usage?.InputTokenCount, Is.EqualTo(5));
            Assert.That(response.Usage?.OutputTokenCount, Is.EqualTo(3));
            Assert.That(server.StreamWrites.Select(w => (w.Offset, w.Text)),
                Is.EqualTo(new[] { (0, "Streamed "), (9, "words, "), (16, "\"quoted\"\n"), (25, "and "), (29, "more.") }));
        });
    }

    [Test]
    public async Task Post_StreamWithoutIncludeUsage_ChunksThenDoneAndNoUsage()
    {
        server.Enqueue(FakeReply.Chat("One two"));

        using var response = await http.PostAsync("v1/chat/completions",
            new StringContent("""{"model":"x","stream":true,"messages":[]}""", Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Multiple(() =>
        {
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/event-stream"));
            Assert.That(events, Is.All.StartWith("data: "));
            Assert.That(events[^1], Is.EqualTo("data: [DONE]"));
            Assert.That(events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!["object"]!.GetValue<string>()), Is.All.EqualTo("chat.completion.chunk"));
            Assert.That(text, Does.Not.Contain("usage"));
        });
    }

    [Test]
    public async Task Post_StreamAskedOfAnError_TheErrorAsItIs()
    {
        server.Enqueue(FakeReply.RateLimited(2));

        using var response = await http.PostAsync("v1/chat/completions",
            new StringContent("""{"model":"x","stream":true,"messages":[]}""", Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Multiple(() =>
        {
            Assert.That((int)response.StatusCode, Is.EqualTo(429));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
            Assert.That(body["error"]!["code"]!.GetValue<string>(), Is.EqualTo("rate_limit_exceeded"));
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task GetResponseAsync_ToolCallsThenToolResults_ClientReadsTheCallsAndTheServerSeesTheResults(bool streamed)
    {
        server.Enqueue(
            FakeReply.ToolCalls(FakeToolCall.Of("get_sum", new { a = 2, b = 3 }, "call_a"), FakeToolCall.Of("echo", new { message = "hi" }, "call_b")),
            FakeReply.Chat("The sum is 5."));
        var chat = Client().AsIChatClient();
        var options = new ChatOptions
        {
            Tools =
            [
                AIFunctionFactory.CreateDeclaration("get_sum", "Adds.", JsonDocument.Parse("""{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}}}""").RootElement),
                AIFunctionFactory.CreateDeclaration("echo", "Echoes.", JsonDocument.Parse("""{"type":"object","properties":{"message":{"type":"string"}}}""").RootElement),
            ],
        };
        List<ChatMessage> messages = [new(ChatRole.User, "Add 2 and 3.")];

        var first = await RespondAsync(chat, messages, options, streamed);
        var calls = first.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        messages.AddRange(first.Messages);
        messages.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent("call_a", "5"), new FunctionResultContent("call_b", "hi")]));
        var second = await RespondAsync(chat, messages, options, streamed);

        var (asked, answered) = (server.Requests[0], server.Requests[1]);
        Assert.Multiple(() =>
        {
            Assert.That(calls.Select(c => (c.CallId, c.Name)), Is.EqualTo(new[] { ("call_a", "get_sum"), ("call_b", "echo") }));
            Assert.That(calls[0].Arguments?["a"]?.ToString(), Is.EqualTo("2"));
            Assert.That(calls[1].Arguments?["message"]?.ToString(), Is.EqualTo("hi"));
            Assert.That(first.FinishReason, Is.EqualTo(Microsoft.Extensions.AI.ChatFinishReason.ToolCalls));
            Assert.That(second.Text, Is.EqualTo("The sum is 5."));
            Assert.That(asked.OfferedTools, Is.EqualTo(new[] { "get_sum", "echo" }));
            Assert.That(asked.Stream, Is.EqualTo(streamed));
            Assert.That(answered.AskedToolCalls.Select(c => (c.Id, c.Name)), Is.EqualTo(new[] { ("call_a", "get_sum"), ("call_b", "echo") }));
            Assert.That(JsonNode.Parse(answered.AskedToolCalls[0].ArgumentsJson)!["b"]!.GetValue<int>(), Is.EqualTo(3));
            Assert.That(answered.ToolResults, Is.EqualTo(new[] { ("call_a", "5"), ("call_b", "hi") }));
            Assert.That(answered.Messages.Select(m => m.Role), Is.EqualTo(new[] { "user", "assistant", "tool", "tool" }));
        });
    }

    [Test]
    public async Task GetStreamingResponseAsync_StreamedEvery_WritesAreApartAndStampedInOrder()
    {
        server.Enqueue(FakeReply.Chat("a b c").StreamedEvery(TimeSpan.FromMilliseconds(20)));

        var received = new List<long>();
        await foreach (var update in Client().AsIChatClient().GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")]))
        {
            if (update.Text.Length > 0)
            {
                received.Add(System.Diagnostics.Stopwatch.GetTimestamp());
            }
        }

        var writes = server.StreamWrites;
        Assert.Multiple(() =>
        {
            Assert.That(writes.Select(w => w.Text), Is.EqualTo(new[] { "a ", "b ", "c" }));
            Assert.That(writes.Select(w => w.Request), Is.All.SameAs(server.Requests.Single()));
            Assert.That(writes.Select(w => w.Timestamp), Is.Ordered.Ascending);
            // Each word is read after it was written: the stamps are taken before the client can see the word.
            Assert.That(received.Zip(writes, (r, w) => r >= w.Timestamp), Is.All.True);
        });
    }

    [Test]
    public async Task GetStreamingResponseAsync_EmptyChoices_NoTextAndNoUsage()
    {
        server.Enqueue(FakeReply.EmptyChoices());

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in Client().AsIChatClient().GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")]))
        {
            updates.Add(update);
        }

        var response = updates.ToChatResponse();
        Assert.Multiple(() =>
        {
            Assert.That(response.Text, Is.Empty);
            Assert.That(response.Usage, Is.Null);
        });
    }

    static async Task<ChatResponse> RespondAsync(IChatClient chat, List<ChatMessage> messages, ChatOptions options, bool streamed)
    {
        if (!streamed)
        {
            return await chat.GetResponseAsync(messages, options);
        }

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync(messages, options))
        {
            updates.Add(update);
        }

        return updates.ToChatResponse();
    }
}
