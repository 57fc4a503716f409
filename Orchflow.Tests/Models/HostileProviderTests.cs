using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Agents;
using Orchflow.Domain;
using Orchflow.Infrastructure.Network;
using Orchflow.Models;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Models;

/// <summary>
/// A provider endpoint that answers to hurt the worker, over real HTTP: a gzip body inflating to 2 GiB, a streamed
/// completion with no end, a byte a second, a redirect to the cloud metadata address. Each ends the call with a
/// <see cref="ModelProviderException"/> saying what happened, after reading at most the cap, within the timeout, and
/// without following the redirect; every call asks for at most the configured output tokens.
/// </summary>
[TestFixture]
public sealed class HostileProviderTests : ChatServerFixture
{
    const string Key = "sk-hostile-test-3b9e";

    /// <summary>One MiB, so the caps are met fast.</summary>
    const int Cap = 1024 * 1024;

    readonly List<IDisposable> owned = [];

    [Test]
    public void RunTask_GzipBombInflatingToGiBs_FailsAtOnceSayingTheAnswerWasTooLong()
    {
        Server.Responder = _ => HostileReplies.GzipBomb("application/json");

        var e = Assert.ThrowsAsync<ModelProviderException>(() => Model(out _).RunTaskAsync(Request(), CancellationToken.None));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.StartWith("The openai_compatible provider's answer was longer than 1 MiB (as sent or once decompressed)")
                .And.Contain("Orchflow:Models:MaxResponseBytes"));
            Assert.That(e.Cause, Is.EqualTo("too_large"));
            Assert.That(Server.Requests, Has.Count.EqualTo(1), "an answer too long is not asked for again");
        });
    }

    [Test]
    public void RunTask_StreamedCompletionWithNoEnd_FailsSayingTheAnswerWasTooLong()
    {
        Server.Responder = _ => HostileReplies.EndlessCompletion();
        var sink = new CountingSink();

        var e = Assert.ThrowsAsync<ModelProviderException>(() => Model(out _).RunTaskAsync(Request(sink), CancellationToken.None));

        Assert.Multiple(() =>
        {
            Assert.That(Server.Requests.Single().Stream, Is.True);
            Assert.That(e!.Message, Does.Contain("answer was longer than 1 MiB"));
            Assert.That(sink.Characters, Is.GreaterThan(0).And.LessThan(Cap), "the text streamed before the cap, and no more");
        });
    }

    [Test]
    public void RunTask_ByteASecond_EndsByTheTimeoutOfEachAttempt()
    {
        Server.Responder = _ => HostileReplies.Drip("application/json", TimeSpan.FromSeconds(1));

        var e = Assert.ThrowsAsync<ModelProviderException>(() => Model(out _, timeoutSeconds: 2).RunTaskAsync(Request(), CancellationToken.None));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain("did not answer within 2 s").And.Contain("all 2 attempts"));
            Assert.That(e.Cause, Is.EqualTo("timeout"));
            Assert.That(Server.DroppedReplies, Is.All.EqualTo("client"), "Orchflow hung up on the drip");
        });
    }

    [Test]
    public void RunTask_RedirectToTheMetadataAddress_NotFollowedAndSaysSo()
    {
        Server.Responder = _ => HostileReplies.RedirectTo();

        var e = Assert.ThrowsAsync<ModelProviderException>(() => Model(out _).RunTaskAsync(Request(), CancellationToken.None));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.StartWith("The provider answered HTTP 307, a redirect to http://169.254.169.254. Orchflow follows no redirects"));
            Assert.That(e.Cause, Is.EqualTo("redirect"));
            Assert.That(Server.Requests, Has.Count.EqualTo(1));
        });
    }

    [Test]
    public void RunTask_RedirectToLoopback_NotFollowedEvenWhereLoopbackIsAllowed()
    {
        var target = new Uri(Server.BaseUri, "elsewhere/v1/chat/completions").ToString();
        Server.Responder = request => request.Path.StartsWith("/elsewhere", StringComparison.Ordinal) ? FakeReply.Chat("followed") : HostileReplies.RedirectTo(target);

        var e = Assert.ThrowsAsync<ModelProviderException>(() => Model(out _).RunTaskAsync(Request(), CancellationToken.None));

        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain("a redirect to " + Server.BaseUri.GetLeftPart(UriPartial.Authority)));
            Assert.That(Server.Requests.Select(r => r.Path), Is.EqualTo(new[] { "/v1/chat/completions" }), "the key never went to the redirect's address");
        });
    }

    [Test]
    public async Task RunTask_AnyCall_AsksForAtMostTheConfiguredOutputTokensAndSendsNoCookie()
    {
        Server.Enqueue(new FakeReply(200, FakeReply.Chat("one").Body, new Dictionary<string, string>
        {
            ["Content-Type"] = "application/json",
            ["Set-Cookie"] = "tenant=a; Path=/",
        }));
        Server.Enqueue(FakeReply.Chat("two"));
        var model = Model(out var options, maxOutputTokens: 1234);

        await model.RunTaskAsync(Request(), CancellationToken.None);
        await model.RunTaskAsync(Request(new CountingSink()), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(Server.Requests.Select(r => r.Json?["max_completion_tokens"]?.GetValue<int>()), Is.All.EqualTo(options.MaxOutputTokens));
            Assert.That(Server.Requests[1].Header("Cookie"), Is.Null, "a cookie one answer set is not sent back");
        });
    }

    [Test]
    public void RunTask_RefusedPortAndUnknownName_TheSameWords()
    {
        var refused = $"http://127.0.0.1:{Ports.FreeLoopbackPort()}";
        const string unknown = "http://orchflow-nowhere.invalid";

        var closed = Assert.ThrowsAsync<ModelProviderException>(() => Model(out _, endpoint: refused + "/v1").RunTaskAsync(Request(), CancellationToken.None));
        var unresolved = Assert.ThrowsAsync<ModelProviderException>(() => Model(out _, endpoint: unknown + "/v1").RunTaskAsync(Request(), CancellationToken.None));

        Assert.Multiple(() =>
        {
            Assert.That(unresolved!.Message.Replace(unknown, "URL", StringComparison.Ordinal), Is.EqualTo(closed!.Message.Replace(refused, "URL", StringComparison.Ordinal)));
            Assert.That(closed.Message, Does.Contain("could not be reached at"));
        });
    }

    ChatRunModel Model(out ModelOptions options, int timeoutSeconds = 5, int maxOutputTokens = 8_192, string? endpoint = null)
    {
        options = new ModelOptions
        {
            RequestTimeoutSeconds = timeoutSeconds, MaxAttempts = 2, RetryBaseDelayMs = 10, MaxRetryDelaySeconds = 5,
            MaxResponseBytes = Cap, MaxOutputTokens = maxOutputTokens,
        };
        var http = new ModelHttp(Options.Create(options), AddressPolicy.Loopback());
        owned.Add(http);
        var target = ModelTarget.Create("openai_compatible", "llama3.1:8b", endpoint ?? new Uri(Server.BaseUri, "v1").ToString(), Key, "prv_test");
        var policy = new ModelCallPolicy(Options.Create(options), TimeProvider.System, NullLogger<ModelCallPolicy>.Instance);
        return new ChatRunModel(ChatRunModel.CreateChatClient(target, http.UserProviders, options.RequestTimeout), target, policy, options.MaxOutputTokens);
    }

    [TearDown]
    public void DisposeClients()
    {
        owned.ForEach(o => o.Dispose());
        owned.Clear();
    }

    static AgentTaskRequest Request(ITextSink? output = null)
    {
        var agent = new AgentSpec("writer");
        var task = new PlannedTask("T1", "Draft the note", "A short note.", TaskKind.Agent, "writer", []);
        return new AgentTaskRequest("Draft a launch note.", task, agent, AgentCatalog.SystemPromptFor(agent), []) { Output = output };
    }

    /// <summary>Counts the text a streamed call handed on.</summary>
    sealed class CountingSink : ITextSink
    {
        public long Characters { get; private set; }

        public void Append(string text) => Characters += text.Length;

        public void Restart() => Characters = 0;
    }
}
