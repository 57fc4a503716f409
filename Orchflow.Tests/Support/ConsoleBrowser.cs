using Microsoft.Playwright;

namespace Orchflow.Tests.Support;

/// <summary>
/// Debian's chromium, driven by Playwright through its own driver: no browser is ever downloaded. One for the console
/// fixtures; each test gets a fresh context (its own sessionStorage) at the window size it asks for.
/// </summary>
public sealed class ConsoleBrowser : IAsyncDisposable
{
    /// <summary>The browser binary: ORCHFLOW_CHROMIUM, or Debian's package.</summary>
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("ORCHFLOW_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Where screenshots go, kept by CI with the test results.</summary>
    public static string ScreenshotDirectory => Path.Combine(RepoPaths.Root, "TestResults", "console");

    static readonly string[] Arguments =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run",
    ];

    readonly IPlaywright playwright;
    readonly IBrowser browser;

    ConsoleBrowser(IPlaywright playwright, IBrowser browser)
    {
        this.playwright = playwright;
        this.browser = browser;
    }

    public static async Task<ConsoleBrowser> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            // Loud on purpose: these tests are the console's only proof, and CI installs the browser.
            Assert.Fail($"CHROMIUM IS NOT INSTALLED: {ExecutablePath} does not exist, so the console's browser tests cannot run. " +
                        "scripts/test.sh installs Debian's package (apt-get install -y chromium); elsewhere set ORCHFLOW_CHROMIUM to a Chromium binary.");
        }

        // Playwright must never fetch a browser of its own: the one above is the one tested.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Args = Arguments,
                Timeout = 60_000,
            });
            return new ConsoleBrowser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A page in a fresh context: desktop is 1280×800, a phone 390 wide.</summary>
    public async Task<ConsolePage> OpenAsync(int width = 1280, int height = 800)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        return new ConsolePage(context, page);
    }

    public async ValueTask DisposeAsync()
    {
        await browser.CloseAsync();
        playwright.Dispose();
    }
}

/// <summary>One tab, with what it logged: a console error (a CSP violation, a script error) fails the test that made it.</summary>
public sealed class ConsolePage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    readonly List<string> problems = Collect(page);

    public IPage Page => page;

    public IReadOnlyList<string> Problems => problems;

    static List<string> Collect(IPage page)
    {
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                problems.Add($"console error: {message.Text}");
            }
        };
        page.PageError += (_, error) => problems.Add($"page error: {error}");
        return problems;
    }

    /// <summary>Saves a screenshot of the whole page to TestResults/console and attaches it to the test.</summary>
    public async Task<string> ScreenshotAsync(string name, bool fullPage = true)
    {
        Directory.CreateDirectory(ConsoleBrowser.ScreenshotDirectory);
        var path = Path.Combine(ConsoleBrowser.ScreenshotDirectory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage, Animations = ScreenshotAnimations.Disabled });
        TestContext.AddTestAttachment(path, name);
        return path;
    }

    public async ValueTask DisposeAsync() => await context.CloseAsync();
}
