using System.Text.Json.Nodes;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Console;

/// <summary>
/// A fixture that uses the console as a person would: a host with the console fixtures' settings (fixtures one after
/// another share it), the console fixtures' one Chromium, a fresh tab per test. Controls are found by their visible
/// labels, graph nodes by <c>data-task-id</c> and <c>data-state</c>. Like every hosted fixture it may run beside
/// another: a console fixture spends most of its time waiting on runs and pages (under one core on average).
/// </summary>
public abstract class ConsoleTests : HostedTests
{
    protected ConsoleBrowser Browser { get; private set; } = null!;

    protected string ConsoleUrl => new Uri(Host.BaseAddress, "/console").ToString();

    /// <summary>Simulated model calls take a little time, so a run's states can be seen on the page as they pass.</summary>
    protected override IReadOnlyDictionary<string, string>? HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__Simulated__LatencyMs"] = "150",
        ["Orchflow__TrialRuns"] = "1000",
    };

    /// <summary>The public docs' "good first task" (content workflow), as a user would paste it into the form.</summary>
    protected const string YouTubeTask =
        "Plan and launch a faceless YouTube channel about AI tools for freelancers. Research 5 competing channels, extract their " +
        "content patterns, define our positioning, decide the branding direction, design a 30-day content plan, and produce a launch checklist.";

    protected static readonly string[] YouTubeTopics = ["brand voice", "target audience", "content constraints"];

    [OneTimeSetUp]
    public async Task LaunchBrowserAsync() => Browser = await ConsoleBrowserSetup.BrowserAsync();

    /// <summary>Opens the console and connects with the key as a person pastes it; lands on the runs.</summary>
    protected async Task<ConsolePage> OpenConnectedAsync(string apiKey, int width = 1280, int height = 800)
    {
        var tab = await Browser.OpenAsync(width, height);
        await tab.Page.GotoAsync(ConsoleUrl);
        await tab.Page.GetByLabel("API key", new() { Exact = true }).FillAsync(apiKey);
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Use key", Exact = true }).ClickAsync();
        await Expect(tab.Page.GetByRole(AriaRole.Heading, new() { Name = "Runs", Exact = true, Level = 1 })).ToBeVisibleAsync();
        return tab;
    }

    /// <summary>Fills the new-run form and starts it; returns the run's id from the address the page goes to.</summary>
    protected static async Task<string> StartRunFromFormAsync(IPage page, string task, IReadOnlyList<string>? askMeAbout = null, bool requireApproval = false)
    {
        await page.GetByRole(AriaRole.Link, new() { Name = "New run", Exact = true }).First.ClickAsync();
        await page.GetByLabel("Task", new() { Exact = true }).FillAsync(task);
        if (askMeAbout is not null)
        {
            await page.GetByLabel("Ask me about", new() { Exact = true }).FillAsync(string.Join("\n", askMeAbout));
        }

        if (requireApproval)
        {
            await page.GetByLabel("Require approval", new() { Exact = true }).CheckAsync();
        }

        return await SubmitRunFormAsync(page);
    }

    /// <summary>Clicks "Start run" and returns the new run's id; fails with the form's own message when it refused.</summary>
    protected static async Task<string> SubmitRunFormAsync(IPage page)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Start run", Exact = true }).ClickAsync();
        var refused = page.Locator(".form-errors");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!page.Url.Contains("#/runs/run_", StringComparison.Ordinal))
        {
            if (await refused.IsVisibleAsync())
            {
                Assert.Fail($"The form did not start the run: {await refused.TextContentAsync()}");
            }

            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the form neither started the run nor said why");
            await Task.Delay(100);
        }

        return Uri.UnescapeDataString(new Uri(page.Url).Fragment["#/runs/".Length..]);
    }

    protected static ILocator Node(IPage page, string taskId) => page.Locator($"svg.dag [data-task-id=\"{taskId}\"]");

    protected static ILocator NodeIn(IPage page, string taskId, string state) =>
        page.Locator($"svg.dag [data-task-id=\"{taskId}\"][data-state=\"{state}\"]");

    protected static ILocator RunStatus(IPage page) => page.Locator(".status-slot [data-status]");

    protected static Task ExpectRunStatusAsync(IPage page, string status, int timeoutMs = 60_000) =>
        Expect(RunStatus(page)).ToHaveAttributeAsync("data-status", status, new() { Timeout = timeoutMs });

    protected static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    /// <summary>The page is no wider than the window: nothing scrolls sideways.</summary>
    protected static async Task AssertNoSidewaysScrollAsync(IPage page, string where)
    {
        var widths = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]");
        Assert.That(widths[0], Is.LessThanOrEqualTo(widths[1]), $"{where}: the page is {widths[0]} px wide in a {widths[1]} px window");
    }

    /// <summary>Every form control on the page has a label a person can see (or, for the graph, an accessible name).</summary>
    protected static async Task AssertEveryControlLabelledAsync(IPage page, string where)
    {
        var unlabelled = await page.EvaluateAsync<string[]>(@"() => [...document.querySelectorAll('input, textarea, select')]
            .filter(c => c.type !== 'hidden' && c.offsetParent !== null)
            .filter(c => c.labels.length === 0 || [...c.labels].every(l => !l.textContent.trim() || l.offsetParent === null))
            .map(c => c.outerHTML.slice(0, 120))");
        Assert.That(unlabelled, Is.Empty, $"{where}: controls without a visible label");
    }

    /// <summary>Fails with what the page logged when a script failed or the CSP refused something.</summary>
    /// <param name="allowing">A status the test provoked on purpose: the browser logs the failed request, which is no fault of the page.</param>
    protected static void AssertNoPageProblems(ConsolePage tab, string? allowing = null) =>
        Assert.That(tab.Problems.Where(p => allowing is null || !p.Contains(allowing, StringComparison.Ordinal)), Is.Empty, "the console logged errors");

    /// <summary>axe-core's violations on the page as it is, one line each: the rule, its impact and where.</summary>
    protected static async Task<IEnumerable<string>> AxeAsync(IPage page, string view)
    {
        var result = await page.RunAxe();
        return result.Violations.Select(v =>
            $"{view}: {v.Id} ({v.Impact}) {v.Help} at {string.Join("; ", v.Nodes.Take(3).Select(n => n.Target.ToString()))}");
    }

    protected static IReadOnlyList<JsonNode> Tasks(JsonNode run) =>
        run["subtasks"]!.AsObject().Select(t => t.Value!).ToList();
}
