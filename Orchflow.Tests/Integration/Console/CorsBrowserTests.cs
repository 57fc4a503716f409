using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Console;

/// <summary>
/// What a real browser lets a page on another origin do (docs/api.md, "Browser clients"): a listed origin's script sends
/// <c>X-API-Key</c> (a preflight the app answers) and reads <c>ETag</c>; a page on an origin not listed cannot call the
/// API at all. The app's CORS is the only CORS in Azure too (the Function App's own list is empty).
/// </summary>
[TestFixture]
public sealed class CorsBrowserTests : HostedTests
{
    /// <summary>Fetches the run as the page, returning the ETag its script can read, or how the fetch failed.</summary>
    const string FetchRun = """
        async ([url, key]) => {
            try {
                const response = await fetch(url, { headers: { 'X-API-Key': key } });
                return `${response.status} ${response.headers.get('ETag') ?? '(unreadable)'}`;
            } catch (e) {
                return `blocked: ${e.name}`;
            }
        }
        """;

    LoopbackPages pages = null!;

    /// <summary>The listed page's origin: the loopback server by address. By name (localhost) it is another, unlisted origin.</summary>
    string ListedOrigin => pages.BaseUri.GetLeftPart(UriPartial.Authority);

    protected override IReadOnlyDictionary<string, string> HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__Cors__AllowedOrigins__0"] = ListedOrigin,
    };

    protected override async Task BeforeHostStartsAsync()
    {
        pages = await LoopbackPages.StartAsync();
        pages.Serve("app", "text/html", "<!doctype html><title>Another site's page</title><p>A browser client of Orchflow.</p>");
        // The browser asks for it; a 404 would be logged as a console error.
        pages.Serve("favicon.ico", http =>
        {
            http.Response.StatusCode = 204;
            return Task.CompletedTask;
        });
    }

    [OneTimeTearDown]
    public async Task StopPagesAsync() => await pages.DisposeAsync();

    [Test]
    public async Task Fetch_FromAListedOriginsPage_SendsTheKeyAndReadsTheETag()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = RunScenarios.Goal })).Str("run_id");
        var runUrl = new Uri(Host.BaseAddress, $"runs/{runId}").ToString();
        await using var page = await (await ConsoleBrowserSetup.BrowserAsync()).OpenAsync();
        await page.Page.GotoAsync(pages.Url("app"));

        var seen = await page.Page.EvaluateAsync<string>(FetchRun, new[] { runUrl, client.ApiKey });

        Assert.Multiple(() =>
        {
            Assert.That(seen, Does.Match("^200 \"[^\"]+\"$"), "the page's script reads the run's strong ETag");
            Assert.That(page.Problems, Is.Empty);
        });
    }

    [Test]
    public async Task Fetch_FromAPageOnAnOriginNotListed_IsBlockedByTheBrowser()
    {
        using var client = await RegisterAsync();
        var runUrl = new Uri(Host.BaseAddress, "runs").ToString();
        await using var page = await (await ConsoleBrowserSetup.BrowserAsync()).OpenAsync();
        await page.Page.GotoAsync(pages.Url("app").Replace("127.0.0.1", "localhost", StringComparison.Ordinal));

        var seen = await page.Page.EvaluateAsync<string>(FetchRun, new[] { runUrl, client.ApiKey });

        Assert.That(seen, Is.EqualTo("blocked: TypeError"), "the preflight gets no CORS headers, so the browser refuses the call");
    }
}
