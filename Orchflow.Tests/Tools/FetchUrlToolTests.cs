using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Http;
using Orchflow.Abstractions;
using Orchflow.Tests.Support;
using Orchflow.Tools;

namespace Orchflow.Tests.Tools;

/// <summary>
/// <c>fetch_url</c> over real HTTP on a loopback web server: pages reduced to their text, redirects told and not
/// followed, 2 MiB read at most however the page is compressed, 64 KiB returned at most, and private addresses
/// refused where the deployment does not allow them.
/// </summary>
[TestFixture]
public sealed class FetchUrlToolTests
{
    LoopbackPages pages = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => pages = await LoopbackPages.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await pages.DisposeAsync();

    static string Args(string url) => $$"""{"url": "{{url}}"}""";

    [Test]
    public async Task CallAsync_HtmlPage_TitleSourceAndReadableTextWithoutScripts()
    {
        pages.Serve("pricing", "text/html; charset=utf-8", """
            <!doctype html><html><head><title>Acme &amp; Co — Pricing</title>
            <style>body { color: red }</style><script>var secret = "do-not-show";</script></head>
            <body><h1>Plans</h1><p>Starter costs &euro;9&nbsp;a month.</p><ul><li>Pro: &#36;29</li><li>Team: ask us</li></ul>
            <!-- a comment that is not text --><noscript>Enable JavaScript</noscript></body></html>
            """);
        await using var harness = new ToolHarness();

        var outcome = await harness.CallAsync("fetch_url", Args(pages.Url("pricing")));

        Assert.Multiple(() =>
        {
            Assert.That(outcome.Error, Is.Null);
            Assert.That(outcome.Result, Does.StartWith($"Title: Acme & Co — Pricing\nSource: {pages.Url("pricing")}\n\nPlans\n\nStarter costs €9 a month."));
            Assert.That(outcome.Result, Does.Contain("- Pro: $29\n- Team: ask us"));
            Assert.That(outcome.Result, Does.Not.Contain("do-not-show").And.Not.Contain("color: red").And.Not.Contain("comment").And.Not.Contain("Enable JavaScript"));
        });
    }

    [Test]
    public async Task CallAsync_PlainText_ReturnedAsText()
    {
        pages.Serve("notes.txt", "text/plain", "line one\nline <two>\n");
        await using var harness = new ToolHarness();

        var outcome = await harness.CallAsync("fetch_url", Args(pages.Url("notes.txt")));

        Assert.That(outcome.Result, Does.EndWith("\n\nline one\nline <two>"));
    }

    [Test]
    public async Task CallAsync_Redirect_NotFollowedAndTheTargetNamed()
    {
        pages.Serve("old", context =>
        {
            context.Response.StatusCode = 301;
            context.Response.Headers.Location = "/new-home";
            return Task.CompletedTask;
        });
        await using var harness = new ToolHarness();

        var outcome = await harness.CallAsync("fetch_url", Args(pages.Url("old")));

        Assert.Multiple(() =>
        {
            Assert.That(outcome.Error, Does.Contain($"answered 301: the page has moved to {pages.Url("new-home")}").And.Contain("follows no redirects"));
            Assert.That(pages.Requests.Select(r => r.Path), Does.Not.Contain("/new-home"));
        });
    }

    [Test]
    public async Task CallAsync_PageOf3MiB_ReadsAt2MiBAndReturnsAt64KiBSayingBoth()
    {
        pages.Serve("huge", "text/html", "<html><body><p>" + new string('a', 3 * 1024 * 1024) + "</p></body></html>");
        await using var harness = new ToolHarness();

        var outcome = await harness.CallAsync("fetch_url", Args(pages.Url("huge")));

        Assert.Multiple(() =>
        {
            Assert.That(outcome.Result!.Length, Is.LessThanOrEqualTo(ToolLimits.MaxResultChars));
            Assert.That(outcome.Result[..200], Does.Contain("[Orchflow read the first 2 MiB of this page; the rest was not read.]"));
            Assert.That(outcome.Result[^100..], Does.Contain("[Cut by Orchflow: the result had 2,097,"));
        });
    }

    [Test]
    public async Task CallAsync_GzipOf50MiB_DecompressesOnly2MiB()
    {
        var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var block = Encoding.ASCII.GetBytes(new string('b', 1024 * 1024));
            for (var i = 0; i < 50; i++)
            {
                await gzip.WriteAsync(block);
            }
        }

        pages.Serve("bomb", async context =>
        {
            context.Response.ContentType = "text/plain";
            context.Response.Headers.ContentEncoding = "gzip";
            await context.Response.Body.WriteAsync(compressed.ToArray(), context.RequestAborted);
        });
        await using var harness = new ToolHarness();

        var outcome = await harness.CallAsync("fetch_url", Args(pages.Url("bomb")));

        Assert.Multiple(() =>
        {
            Assert.That(compressed.Length, Is.LessThan(ToolLimits.MaxFetchBytes), "the bomb is small as sent");
            Assert.That(outcome.Result, Does.Contain("[Orchflow read the first 2 MiB of this page; the rest was not read.]"));
            Assert.That(outcome.Result![^100..], Does.Contain("the result had 2,097,"));
        });
    }

    [Test]
    public async Task CallAsync_LoopbackWherePrivateAddressesAreRefused_RefusedWithoutARequest()
    {
        pages.Serve("internal", "text/plain", "internal secrets");
        await using var harness = new ToolHarness(allowLoopback: false);
        var before = pages.Requests.Count;

        var outcome = await harness.CallAsync("fetch_url", Args(pages.Url("internal")));

        Assert.Multiple(() =>
        {
            Assert.That(outcome.Error, Does.Contain("private or local address").And.Contain("only public pages"));
            Assert.That(pages.Requests, Has.Count.EqualTo(before));
        });
    }

    [TestCase("image/png", "is image/png, which fetch_url does not read")]
    [TestCase("application/octet-stream", "is application/octet-stream")]
    public async Task CallAsync_NotText_FailedSayingWhat(string type, string expected)
    {
        pages.Serve("blob", type, "\u0089PNG....");
        await using var harness = new ToolHarness();

        var outcome = await harness.CallAsync("fetch_url", Args(pages.Url("blob")));

        Assert.That(outcome.Error, Does.Contain(expected));
    }

    [Test]
    public async Task CallAsync_NotFound_FailedWithTheStatus()
    {
        await using var harness = new ToolHarness();

        var outcome = await harness.CallAsync("fetch_url", Args(pages.Url("missing")));

        Assert.That(outcome.Error, Is.EqualTo($"{pages.Url("missing")} answered 404 Not Found."));
    }

    [TestCase("{}")]
    [TestCase("""{"url": "ftp://example.com/x"}""")]
    [TestCase("""{"url": "https://user:pw@example.com/"}""")]
    [TestCase("""{"url": 42}""")]
    [TestCase("not json")]
    public async Task CallAsync_BadArguments_RefusedSayingWhatItTakes(string arguments)
    {
        await using var harness = new ToolHarness();

        var outcome = await harness.CallAsync("fetch_url", arguments);

        Assert.That(outcome.Error, Does.StartWith("fetch_url takes {\"url\": \"https://…\"}"));
    }

    [Test]
    public async Task CallAsync_PageSlowerThanTheCallTimeout_TimedOut()
    {
        pages.Serve("slow", async context => await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted));
        await using var harness = new ToolHarness(callTimeout: TimeSpan.FromMilliseconds(500));

        var outcome = await harness.CallAsync("fetch_url", Args(pages.Url("slow")));

        Assert.That(outcome.Error, Does.Contain("did not answer within 500 ms"));
    }

    [Test]
    public async Task CallAsync_PageSetsACookie_NextRequestSendsNone()
    {
        pages.Serve("cookie", context =>
        {
            context.Response.Headers.SetCookie = "session=abc; Path=/";
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync("hello");
        });
        await using var harness = new ToolHarness();

        await harness.CallAsync("fetch_url", Args(pages.Url("cookie")));
        await harness.CallAsync("fetch_url", Args(pages.Url("cookie")));

        Assert.That(pages.Requests.Where(r => r.Path == "/cookie").Select(r => r.Headers.GetValueOrDefault("Cookie")), Is.All.Null);
    }
}
