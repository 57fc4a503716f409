using System.Net;
using System.Text.RegularExpressions;
using Orchflow.Functions.Console;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Console;

/// <summary>
/// How the standalone host serves the console over HTTP: the page uncached and under a strict Content-Security-Policy,
/// its assets under a content hash and cached for a year, no key needed, and the same bytes the Functions app embeds.
/// </summary>
[TestFixture]
public sealed partial class ConsoleServingTests : HostedTests
{
    HttpClient http = null!;

    [OneTimeSetUp]
    public void CreateClient() => http = new HttpClient { BaseAddress = new Uri(Host.BaseAddress, "/") };

    [OneTimeTearDown]
    public void DisposeClient() => http?.Dispose();

    [Test]
    public async Task GetConsole_WithoutAKey_ServesThePageUncachedUnderAStrictPolicy()
    {
        using var response = await http.GetAsync("console");
        var page = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Content.Headers.ContentType?.ToString(), Is.EqualTo("text/html; charset=utf-8"));
            Assert.That(response.Headers.CacheControl?.ToString(), Is.EqualTo("no-cache"));
            Assert.That(Header(response, "Content-Security-Policy"), Is.EqualTo(
                "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"));
            Assert.That(Header(response, "X-Content-Type-Options"), Is.EqualTo("nosniff"));
            Assert.That(Header(response, "Referrer-Policy"), Is.EqualTo("no-referrer"));
            Assert.That(response.Headers.ETag, Is.Not.Null);
            Assert.That(page, Does.Contain($"src=\"{ConsoleAssets.AssetBase}/app.js\""));
            Assert.That(page, Does.Contain($"href=\"{ConsoleAssets.AssetBase}/console.css\""));
        });
    }

    [Test]
    public async Task GetConsole_ThePage_HasNoInlineScriptOrStyleForThePolicyToRefuse()
    {
        var page = await http.GetStringAsync("console");

        Assert.Multiple(() =>
        {
            Assert.That(InlineScript().Matches(page).Select(m => m.Value), Is.Empty, "every script has a src");
            Assert.That(page, Does.Not.Contain("<style").And.Not.Contain(" style="), "no inline style");
            Assert.That(InlineHandler().Matches(page).Select(m => m.Value), Is.Empty, "no inline handler");
            Assert.That(page, Does.Not.Contain("{{"), "every placeholder is filled");
        });
    }

    [Test]
    public async Task GetConsole_WithItsETag_Answers304()
    {
        using var first = await http.GetAsync("console");
        using var request = new HttpRequestMessage(HttpMethod.Get, "console");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        using var again = await http.SendAsync(request);

        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));
        Assert.That(await again.Content.ReadAsByteArrayAsync(), Is.Empty);
    }

    [Test]
    public async Task GetConsole_WithATrailingSlash_ServesTheSamePage()
    {
        Assert.That(await http.GetStringAsync("console/"), Is.EqualTo(await http.GetStringAsync("console")));
    }

    [Test]
    public async Task GetAsset_EveryAssetOfTheBuild_ImmutableUnderItsContentHashWithItsType()
    {
        var names = ConsoleAssets.Names.ToList();
        Assert.That(names, Is.SupersetOf(new[] { "app.js", "api.js", "stream.js", "graph.js", "markdown.js", "console.css" }));
        Assert.That(ConsoleAssets.Version, Does.Match("^[0-9a-f]{16}$"));

        foreach (var name in names)
        {
            using var response = await http.GetAsync($"{ConsoleAssets.AssetBase.TrimStart('/')}/{name}");
            var expectedType = name.EndsWith(".js", StringComparison.Ordinal) ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
            Assert.Multiple(() =>
            {
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), name);
                Assert.That(response.Content.Headers.ContentType?.ToString(), Is.EqualTo(expectedType), name);
                Assert.That(response.Headers.CacheControl?.ToString(), Is.EqualTo("public, max-age=31536000, immutable"), name);
                Assert.That(Header(response, "X-Content-Type-Options"), Is.EqualTo("nosniff"), name);
            });
        }
    }

    [Test]
    public async Task GetAsset_TheBytesServed_AreTheSourceFilesAsWritten()
    {
        var source = Path.Combine(RepoPaths.Root, "Orchflow.Functions", "Console", "Assets");
        foreach (var file in Directory.EnumerateFiles(source).Where(f => Path.GetFileName(f) != "index.html"))
        {
            var served = await http.GetByteArrayAsync($"{ConsoleAssets.AssetBase.TrimStart('/')}/{Path.GetFileName(file)}");
            Assert.That(served, Is.EqualTo(await File.ReadAllBytesAsync(file)), $"{Path.GetFileName(file)}: nothing is built, the source is served");
        }
    }

    [TestCase("console/assets/0000000000000000/app.js")]
    [TestCase("console/assets/{version}/nosuch.js")]
    [TestCase("console/assets/{version}/index.html")]
    [TestCase("console/assets/{version}/..%2Fconsole.css")]
    [TestCase("console/assets/{version}")]
    [TestCase("console/nosuch")]
    public async Task GetAsset_UnknownVersionOrName_Returns404(string path)
    {
        using var response = await http.GetAsync(path.Replace("{version}", ConsoleAssets.Version, StringComparison.Ordinal));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(response.Headers.CacheControl?.ToString(), Is.Not.EqualTo("public, max-age=31536000, immutable"), "a miss is not cached for a year");
    }

    [Test]
    public void Scripts_BuildThePageWithoutParsingHtml()
    {
        // Model text reaches the page as DOM text only; these would parse it as HTML (or run it as code).
        string[] forbidden = ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "DOMParser", "createContextualFragment", "localStorage", "document.cookie"];
        var scripts = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "Orchflow.Functions", "Console", "Assets"), "*.js");

        Assert.Multiple(() =>
        {
            foreach (var script in scripts)
            {
                var text = File.ReadAllText(script);
                Assert.That(forbidden.Where(f => text.Contains(f, StringComparison.Ordinal)), Is.Empty, Path.GetFileName(script));
            }
        });
    }

    [Test]
    public async Task ApiResponse_ToARequestWithAnOrigin_HasNoCorsHeadersByDefault()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/health");
        request.Headers.Add("Origin", "https://app.example.com");
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "api/v1/runs");
        preflight.Headers.Add("Origin", "https://app.example.com");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");

        using var response = await http.SendAsync(request);
        using var preflightResponse = await http.SendAsync(preflight);

        Assert.Multiple(() =>
        {
            Assert.That(response.Headers.Select(h => h.Key).Where(k => k.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase)), Is.Empty);
            Assert.That(preflightResponse.StatusCode, Is.EqualTo(HttpStatusCode.MethodNotAllowed), "OPTIONS is a method the API does not serve");
            Assert.That(preflightResponse.Headers.Select(h => h.Key).Where(k => k.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase)), Is.Empty);
        });
    }

    [Test]
    public void Assets_AreEmbeddedInTheFunctionsAssembly_SoBothHostsServeTheSameBytes()
    {
        var resources = typeof(ConsoleAssets).Assembly.GetManifestResourceNames();

        Assert.That(resources.Where(r => r.StartsWith("Orchflow.Functions.Console.Assets.", StringComparison.Ordinal)).Select(r => r["Orchflow.Functions.Console.Assets.".Length..]),
            Is.EquivalentTo(Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "Orchflow.Functions", "Console", "Assets")).Select(Path.GetFileName)));
    }

    static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) :
        response.Content.Headers.TryGetValues(name, out var content) ? string.Join(", ", content) : null;

    [GeneratedRegex(@"<script(?![^>]*\bsrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();

    [GeneratedRegex(@"\son[a-z]+\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineHandler();
}
