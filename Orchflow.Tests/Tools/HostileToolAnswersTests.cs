using Orchflow.Tests.Support;

namespace Orchflow.Tests.Tools;

/// <summary>
/// A tool server that turns hostile after it was registered: its tools/call answers are a gzip body inflating to
/// 2 GiB, an event stream with no end, a byte a second, or a redirect to the cloud metadata address. Each call ends as a
/// failed outcome saying what happened, having read at most the cap, within the call's time, following nothing. And
/// however a server cannot be reached, the outcome says so in the same words.
/// </summary>
[TestFixture]
public sealed class HostileToolAnswersTests
{
    public enum Hostility
    {
        GzipBomb,
        EndlessEvents,
        Drip,
        RedirectToMetadata,
    }

    [TestCase(Hostility.GzipBomb, "is not usable: it answered more than 4 MiB")]
    [TestCase(Hostility.EndlessEvents, "is not usable: it answered more than 4 MiB")]
    [TestCase(Hostility.Drip, "did not answer within 2 s")]
    [TestCase(Hostility.RedirectToMetadata, "a redirect to http://169.254.169.254/latest/meta-data/iam/security-credentials/); redirects are not followed")]
    public async Task CallAsync_HostileAnswerToTheCall_FailedOutcomeSayingWhatHappened(Hostility hostility, string expected)
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        await using var harness = new ToolHarness(callTimeout: TimeSpan.FromSeconds(2));
        var registered = await harness.RegisterAsync(server.Url);
        server.OnToolCalls(hostility switch
        {
            Hostility.GzipBomb => HostileReplies.GzipBomb("application/json"),
            Hostility.EndlessEvents => HostileReplies.Endless("text/event-stream", ": still here\n"),
            Hostility.Drip => HostileReplies.Drip("application/json", TimeSpan.FromSeconds(1)),
            _ => HostileReplies.RedirectTo(),
        });

        var outcome = await harness.CallAsync($"{registered.ServerId}/lookup", """{"q": "x"}""");

        Assert.Multiple(() =>
        {
            Assert.That(outcome.Result, Is.Null);
            Assert.That(outcome.Error, Does.StartWith($"The tool server {registered.ServerId}").And.Contain(expected));
        });
    }

    [Test]
    public async Task ProbeAsync_RefusedPortAndUnknownName_TheSameWords()
    {
        await using var harness = new ToolHarness();
        var refused = $"http://127.0.0.1:{Ports.FreeLoopbackPort()}/mcp";
        const string unknown = "http://orchflow-nowhere.invalid/mcp";

        var closed = await harness.Servers.ProbeAsync(refused, new Dictionary<string, string>(), CancellationToken.None);
        var unresolved = await harness.Servers.ProbeAsync(unknown, new Dictionary<string, string>(), CancellationToken.None);

        Assert.That(unresolved.Problem!.Replace(unknown, "URL", StringComparison.Ordinal), Is.EqualTo(closed.Problem!.Replace(refused, "URL", StringComparison.Ordinal)));
    }
}
