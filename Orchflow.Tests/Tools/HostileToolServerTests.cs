using Orchflow.Abstractions;
using Orchflow.Tests.Support;
using Orchflow.Tools;

namespace Orchflow.Tests.Tools;

/// <summary>
/// Tool servers that are down, slow, answer garbage, a page, 10 MB or a redirect, list 1,000 tools, or whose tools
/// fail, throw or answer too much: registration's probe says why in a sentence naming the URL, and a call comes back
/// as a failed outcome the model is told. Nothing throws.
/// </summary>
[TestFixture]
public sealed class HostileToolServerTests
{
    static readonly TimeSpan Short = TimeSpan.FromMilliseconds(800);

    [Test]
    public async Task ProbeAsync_NothingListens_ProblemSaysItCouldNotBeReached()
    {
        await using var harness = new ToolHarness();
        var url = $"http://127.0.0.1:{Ports.FreeLoopbackPort()}/mcp";

        var probe = await harness.Servers.ProbeAsync(url, new Dictionary<string, string>(), CancellationToken.None);

        Assert.That(probe.Problem, Does.StartWith($"'url' ({url})").And.Contain("could not be reached"));
    }

    [TestCase("garbage", "its answer is not valid JSON")]
    [TestCase("page", "text/html, not an MCP message")]
    [TestCase("ten megabytes", "more than 4 MiB")]
    [TestCase("redirect", "a redirect to https://elsewhere.example.com/mcp")]
    [TestCase("unauthorized", "refused Orchflow's request (401 Unauthorized): check the headers")]
    public async Task ProbeAsync_HostileAnswer_ProblemSaysWhatItGot(string answer, string expected)
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        await using var harness = new ToolHarness();
        server.Always(answer switch
        {
            "garbage" => LoopbackMcpServer.Garbage(),
            "page" => LoopbackMcpServer.Page(),
            "ten megabytes" => LoopbackMcpServer.TenMegabytes(),
            "redirect" => LoopbackMcpServer.Redirect("https://elsewhere.example.com/mcp"),
            _ => new FakeReply(401, ""),
        });

        var probe = await harness.Servers.ProbeAsync(server.Url, new Dictionary<string, string>(), CancellationToken.None);

        Assert.That(probe.Problem, Does.StartWith($"'url' ({server.Url})").And.Contain(expected));
    }

    [Test]
    public async Task ProbeAsync_ServerSilentPastTheTimeout_ProblemSaysSoInTime()
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        await using var harness = new ToolHarness(connectTimeout: Short);
        server.Always(LoopbackMcpServer.Silence(TimeSpan.FromSeconds(30)));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var probe = await harness.Servers.ProbeAsync(server.Url, new Dictionary<string, string>(), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(probe.Problem, Does.Contain("did not answer within 800 ms"));
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "the timeout is kept");
        });
    }

    [Test]
    public async Task ProbeAsync_ThousandTools_Keeps128AndSaysTruncated()
    {
        await using var server = await LoopbackMcpServer.StartAsync(extraTools: 1000);
        await using var harness = new ToolHarness();

        var probe = await harness.Servers.ProbeAsync(server.Url, new Dictionary<string, string>(), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(probe.Problem, Is.Null);
            Assert.That(probe.Tools, Has.Count.EqualTo(ToolLists.MaxTools));
            Assert.That(probe.Truncated, Is.True);
            Assert.That(probe.Tools[0].Name, Is.EqualTo("lookup"), "the server's order is kept");
        });
    }

    [Test]
    public async Task ProbeAsync_HeadersGiven_ServerReceivesThemOnEveryRequest()
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        await using var harness = new ToolHarness();

        await harness.Servers.ProbeAsync(server.Url, new Dictionary<string, string> { ["Authorization"] = "Bearer tool-secret-1" }, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(server.Methods, Does.Contain("initialize").And.Contain("tools/list"));
            Assert.That(server.Requests.Where(r => r.Method == "POST").Select(r => r.Header("Authorization")), Is.All.EqualTo("Bearer tool-secret-1"));
            Assert.That(server.Requests.Select(r => r.Header("Cookie")), Is.All.Null);
        });
    }

    [Test]
    public async Task ProbeAsync_LoopbackWhenPrivateAddressesAreNotAllowed_RefusedWhenConnecting()
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        await using var harness = new ToolHarness(allowLoopback: false);

        var probe = await harness.Servers.ProbeAsync(server.Url, new Dictionary<string, string>(), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(probe.Problem, Does.Contain("was not called").And.Contain("127.0.0.1 is a private or local address"));
            Assert.That(server.Requests, Is.Empty, "no request reached the server");
        });
    }

    [TestCase("fail", "reported an error: The upstream API said no.")]
    [TestCase("explode", "answered with an error: Internal error: kaboom in the tool (code -32603)")]
    [TestCase("flood", "more than 4 MiB")]
    [TestCase("nonexistent", "lists no tool named 'nonexistent'")]
    public async Task CallAsync_ToolThatFails_FailedOutcomeSayingWhy(string tool, string expected)
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        await using var harness = new ToolHarness();
        var registered = await harness.RegisterAsync(server.Url);

        var outcome = await harness.CallAsync($"{registered.ServerId}/{tool}", "{}");

        Assert.Multiple(() =>
        {
            Assert.That(outcome.Result, Is.Null);
            Assert.That(outcome.Error, Does.Contain(expected));
        });
    }

    [Test]
    public async Task CallAsync_ToolSlowerThanTheCallTimeout_TimedOutInTime()
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        await using var harness = new ToolHarness(callTimeout: Short);
        var registered = await harness.RegisterAsync(server.Url);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var outcome = await harness.CallAsync($"{registered.ServerId}/dawdle", "{}");

        Assert.Multiple(() =>
        {
            Assert.That(outcome.Error, Does.Contain($"The tool server {registered.ServerId}").And.Contain("did not answer within 800 ms"));
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(4)));
        });
    }

    [Test]
    public async Task CallAsync_ResultOver64KiB_CutToTheLimitSayingSo()
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        await using var harness = new ToolHarness();
        var registered = await harness.RegisterAsync(server.Url);

        var outcome = await harness.CallAsync($"{registered.ServerId}/ramble", "{}");

        Assert.Multiple(() =>
        {
            Assert.That(outcome.Result!.Length, Is.LessThanOrEqualTo(ToolLimits.MaxResultChars));
            Assert.That(outcome.Result![..21], Is.EqualTo("All work and no play."));
            Assert.That(outcome.Result[^100..], Does.EndWith("\n[Cut by Orchflow: the result had 100,000 characters; the first 65,454 are shown.]"));
        });
    }

    [TestCase("[1, 2]")]
    [TestCase("\"text\"")]
    [TestCase("{not json")]
    public async Task CallAsync_ArgumentsNotAnObject_RefusedWithoutCallingTheServer(string arguments)
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        await using var harness = new ToolHarness();
        var registered = await harness.RegisterAsync(server.Url);
        var before = server.Requests.Count;

        var outcome = await harness.CallAsync($"{registered.ServerId}/lookup", arguments);

        Assert.Multiple(() =>
        {
            Assert.That(outcome.Error, Does.Contain("must be a JSON object"));
            Assert.That(server.Requests, Has.Count.EqualTo(before));
        });
    }

    [Test]
    public async Task CallAsync_ServerWentDownAfterRegistration_FailedOutcome()
    {
        var server = await LoopbackMcpServer.StartAsync();
        await using var harness = new ToolHarness();
        var registered = await harness.RegisterAsync(server.Url);
        await server.DisposeAsync();

        var outcome = await harness.CallAsync($"{registered.ServerId}/lookup", """{"q": "x"}""");

        Assert.That(outcome.Error, Does.Contain("could not be reached"));
    }

    [Test]
    public async Task CallAsync_ServerStartsAnsweringGarbageMidSession_FailedThenRecoversWhenHonestAgain()
    {
        await using var server = await LoopbackMcpServer.StartAsync();
        await using var harness = new ToolHarness();
        var registered = await harness.RegisterAsync(server.Url);
        Assert.That((await harness.CallAsync($"{registered.ServerId}/lookup", """{"q": "one"}""")).Result, Is.EqualTo("found: one"));

        server.Always(LoopbackMcpServer.Garbage());
        var broken = await harness.CallAsync($"{registered.ServerId}/lookup", """{"q": "two"}""");

        server.Honest();
        var again = await harness.CallAsync($"{registered.ServerId}/lookup", """{"q": "three"}""");

        Assert.Multiple(() =>
        {
            Assert.That(broken.Error, Does.Contain("its answer is not valid JSON"));
            Assert.That(again.Result, Is.EqualTo("found: three"));
        });
    }
}
