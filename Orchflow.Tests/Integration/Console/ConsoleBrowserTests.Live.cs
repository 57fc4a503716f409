using System.Globalization;
using System.Text.Json;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Console;

/// <summary>The console live: rate limits waited out, a stream cut off and resumed, and state changes shown as they are logged.</summary>
public sealed partial class ConsoleBrowserTests
{
    [Test]
    public async Task RateLimited_TheConsoleWaitsAsLongAsRetryAfterSays()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        await using var tab = await Browser.OpenAsync();
        var page = tab.Page;
        // The page's timers run on a clock the test moves and that stands still otherwise, however slowly the machine
        // goes, so "not before 2 s" is seen without waiting 2 s.
        await page.Clock.InstallAsync();
        await page.Clock.PauseAtAsync(DateTime.UtcNow.AddMinutes(1));
        var asked = new List<string>();
        var refusedList = false;
        var refusedStream = false;
        await page.RouteAsync("**/api/v1/runs**", async route =>
        {
            var request = route.Request;
            var stream = request.Headers.TryGetValue("accept", out var accept) && accept.Contains("text/event-stream", StringComparison.Ordinal);
            var list = request.Url.Contains("/runs?limit=10", StringComparison.Ordinal);
            lock (asked)
            {
                asked.Add(stream ? "stream" : list ? "list" : "other");
            }

            if (list && !refusedList || stream && !refusedStream)
            {
                refusedList |= !stream;
                refusedStream |= stream;
                await route.FulfillAsync(new()
                {
                    Status = 429,
                    ContentType = "application/problem+json",
                    Headers = new Dictionary<string, string> { ["Retry-After"] = "2" },
                    Body = "{\"type\":\"https://orchflow.dev/problems/rate-limited\",\"title\":\"Rate limit exceeded\",\"status\":429,\"detail\":\"Too many requests.\",\"code\":\"rate_limited\"}",
                });
                return;
            }

            await route.ContinueAsync();
        });
        int Asked(string kind)
        {
            lock (asked)
            {
                return asked.Count(a => a == kind);
            }
        }

        await page.GotoAsync(ConsoleUrl);
        await page.GetByLabel("API key", new() { Exact = true }).FillAsync(client.ApiKey!);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use key", Exact = true }).ClickAsync();

        await Expect(page.Locator("#notice")).ToContainTextAsync("slow down");
        await page.Clock.RunForAsync(1_900);
        Assert.That(Asked("list"), Is.EqualTo(1), "the list is not asked again before Retry-After has passed");
        await page.Clock.RunForAsync(200);
        await Expect(page.Locator(".run-list > li")).ToHaveCountAsync(1);
        Assert.That(Asked("list"), Is.EqualTo(2), "asked again once Retry-After had passed");

        await page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
        await Expect(page.Locator(".live")).ToHaveAttributeAsync("data-live", "waiting");
        await page.Clock.RunForAsync(1_900);
        Assert.That(Asked("stream"), Is.EqualTo(1), "the stream is not opened again before Retry-After has passed");
        await page.Clock.RunForAsync(200);
        await Expect(page.Locator(".live")).ToHaveAttributeAsync("data-live", "live");
        Assert.That(Asked("stream"), Is.EqualTo(2), "opened again once Retry-After had passed");
        AssertNoPageProblems(tab, allowing: "429");
    }


    [Test]
    public async Task LiveStream_CutOffByARestart_ReconnectsWithLastEventIdAndShowsEveryEventOnce()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        await using var tab = await OpenConnectedAsync(client.ApiKey!);
        var page = tab.Page;
        await page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
        var live = page.Locator(".live");
        await Expect(live).ToHaveAttributeAsync("data-live", "live");

        // Every state the page shows is recorded as it changes, so the cut is seen however quickly the page gets over it.
        await page.EvaluateAsync(@"() => {
            const live = document.querySelector('.live');
            window.liveStates = [];
            new MutationObserver(() => window.liveStates.push(live.dataset.live)).observe(live, { attributes: true, attributeFilter: ['data-live'] });
        }");

        await Host.RestartAsync();
        await page.WaitForFunctionAsync(@"() => {
            const cut = window.liveStates.findIndex(s => s !== 'live');
            return cut >= 0 && window.liveStates.slice(cut).includes('live');
        }", null, new() { Timeout = 60_000 });
        Assert.That((await client.CompleteAsync(runId, "T1", new { output = "Company: a workflow API for AI apps." })).Status,
            Is.EqualTo(System.Net.HttpStatusCode.OK));

        await ExpectRunStatusAsync(page, "completed");
        var events = await client.EventsAsync(runId);
        await Expect(page.Locator(".timeline > li")).ToHaveCountAsync(events.Count);
        var shown = await page.Locator(".timeline > li").EvaluateAllAsync<long[]>("items => items.map(i => Number(i.dataset.sequence))");
        Assert.That(shown, Is.EqualTo(events.Select(e => e["sequence"]!.GetValue<long>())), "every event once, in order, across the cut");
        // The browser logs the refused connections while the host was down; nothing else may be logged.
        Assert.That(tab.Problems.Where(p => !p.Contains("net::ERR", StringComparison.Ordinal) && !p.Contains("Failed to load resource", StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public async Task StateChanges_LoggedWhileThePageWatches_EachShownOnTheGraphAfterItIsLogged()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = YouTubeTask, ask_me_about = YouTubeTopics, require_approval = true })).Str("run_id");
        await client.WaitForRunAsync(runId, r => r["subtasks"]?["T1"]?["state"]?.GetValue<string>() == "waiting_human");
        await using var tab = await OpenConnectedAsync(client.ApiKey!);
        var page = tab.Page;
        await page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
        await Expect(page.Locator(".live")).ToHaveAttributeAsync("data-live", "live");
        await page.EvaluateAsync(@"() => {
            window.stateChanges = [];
            // Two events read in one go set a node's state twice before the observer hears of it: each record's new
            // value is the next record's old one, and the last is the node's state now.
            new MutationObserver(records => {
                const at = Date.now();
                const nodes = records.filter(r => r.target.matches && r.target.matches('[data-task-id]'));
                nodes.forEach((r, i) => {
                    const next = nodes.slice(i + 1).find(n => n.target === r.target);
                    const state = next ? next.oldValue : r.target.dataset.state;
                    const animation = next ? 'not painted' : getComputedStyle(r.target.querySelector('.shape')).animationName;
                    window.stateChanges.push({ task: r.target.dataset.taskId, state, at, animation });
                });
            }).observe(document.querySelector('.graph-scroll'), { subtree: true, attributes: true, attributeOldValue: true, attributeFilter: ['data-state'] });
        }");
        var watchedFrom = DateTimeOffset.UtcNow;

        // Drive the run through the API, as another person or a backend would; the page only watches.
        Assert.That((await client.CompleteAsync(runId, "T1", new { output = YouTubeAnswer })).Status, Is.EqualTo(System.Net.HttpStatusCode.OK));
        await new ApprovalDriver(client, runId).DriveToCompletionAsync();

        await ExpectRunStatusAsync(page, "completed");
        var changes = (await page.EvaluateAsync<JsonElement>("() => window.stateChanges")).EnumerateArray()
            .Select(c => (Task: c.GetProperty("task").GetString()!, State: c.GetProperty("state").GetString()!, At: c.GetProperty("at").GetInt64(),
                Animation: c.GetProperty("animation").GetString()!))
            .ToList();
        var events = (await client.EventsAsync(runId))
            .Where(e => e["task_id"] is not null && StateOf(e.Str("type")) is not null && DateTimeOffset.Parse(e.Str("created_at"), CultureInfo.InvariantCulture) > watchedFrom)
            .ToList();

        var latencies = new List<double>();
        var used = new HashSet<int>();
        foreach (var e in events)
        {
            var created = DateTimeOffset.Parse(e.Str("created_at"), CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
            var index = Enumerable.Range(0, changes.Count)
                .FirstOrDefault(i => !used.Contains(i) && changes[i].Task == e.Str("task_id") && changes[i].State == StateOf(e.Str("type")), -1);
            Assert.That(index, Is.GreaterThanOrEqualTo(0), $"{e.Str("task_id")} {e.Str("type")} (event {e["sequence"]}) never showed on the graph");
            used.Add(index);
            latencies.Add(changes[index].At - created);
        }

        latencies.Sort();
        var median = latencies[latencies.Count / 2];
        var p99 = latencies[(int)Math.Ceiling(latencies.Count * 0.99) - 1];
        var report = $"State change to screen (event created_at to the node's data-state on the page), {latencies.Count} changes: " +
                     $"median {median:0} ms, p99 {p99:0} ms, min {latencies[0]:0} ms, max {latencies[^1]:0} ms.";
        await TestContext.Out.WriteLineAsync(report);
        Directory.CreateDirectory(ConsoleBrowser.ScreenshotDirectory);
        var path = Path.Combine(ConsoleBrowser.ScreenshotDirectory, "latency.txt");
        await File.WriteAllTextAsync(path, report + "\n" + string.Join("\n", latencies.Select(l => l.ToString("0", CultureInfo.InvariantCulture))) + "\n");
        TestContext.AddTestAttachment(path, "state change latencies (ms)");

        Assert.Multiple(() =>
        {
            Assert.That(latencies, Has.Count.GreaterThanOrEqualTo(20), "enough changes to take a median of 20");
            Assert.That(latencies[0], Is.GreaterThanOrEqualTo(-5), "a change cannot show before it happened (same clock)");
            Assert.That(changes.Where(c => c.State == "running" && c.Animation != "not painted").Select(c => c.Animation).Distinct(), Is.EqualTo(new[] { "march" }),
                "running nodes move");
        });
        AssertNoPageProblems(tab);
    }


    static string? StateOf(string eventType) => eventType switch
    {
        "task.started" or "task.revision_requested" => "running",
        "task.waiting_human" => "waiting_human",
        "task.completed" => "completed",
        "task.failed" => "failed",
        "task.cancelled" => "cancelled",
        _ => null,
    };
}
