using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Console;

/// <summary>
/// The console in headless Chromium, used as a new user would: connect with a key, start the public docs' example from
/// the form, watch the graph, answer, approve and reject drafts, cancel, page through runs, on a desktop window and a
/// phone's width; and the pieces a browser alone can check (the Markdown renderer with hostile text, the SSE parser).
/// </summary>
[TestFixture]
public sealed class ConsoleBrowserTests : ConsoleTests
{
    const string YouTubeAnswer =
        "Brand voice: practical and founder-friendly. Target audience: solo freelancers and small agencies. " +
        "Content constraints: no face on camera, one upload a week, tools under $50 a month.";

    [Test]
    public async Task YouTubeExample_StartedFromTheForm_WaitsForYouThenCompletesWithTheFinalOutput()
    {
        using var client = await RegisterAsync();
        await using var tab = await OpenConnectedAsync(client.ApiKey!);
        var page = tab.Page;
        await AssertEveryControlLabelledAsync(page, "runs");

        var runId = await StartRunFromFormAsync(page, YouTubeTask, YouTubeTopics);

        await Expect(NodeIn(page, "T1", "waiting_human")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await ExpectRunStatusAsync(page, "waiting_human");
        var run = await client.GetRunAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(run["ask_me_about"]!.AsArray().Select(t => t!.GetValue<string>()), Is.EqualTo(YouTubeTopics), "the form sent one topic per line");
            Assert.That(run["agents"]!.AsArray().Select(a => a!.Str("name")), Is.EqualTo(new[] { "research", "analyst", "writer" }));
        });
        await AssertGraphDrawsTheRunAsync(page, run);
        await Expect(page.Locator(".status-slot .needs-you")).ToHaveTextAsync("Needs you");
        await Expect(page.Locator(".detail")).ToContainTextAsync(run["subtasks"]!["T1"]!.Str("prompt").Split('\n')[0]);
        await AssertEveryControlLabelledAsync(page, "a run waiting for an answer");
        await tab.ScreenshotAsync("youtube-waiting-desktop");

        await page.GetByLabel("Answer", new() { Exact = true }).FillAsync(YouTubeAnswer);
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit answer", Exact = true }).ClickAsync();

        await ExpectRunStatusAsync(page, "completed");
        var final = page.GetByRole(AriaRole.Region, new() { Name = "Final output" });
        await Expect(final).ToContainTextAsync("practical and founder-friendly");
        run = await client.GetRunAsync(runId);
        await Expect(page.Locator("svg.dag [data-state=\"completed\"]")).ToHaveCountAsync(Tasks(run).Count);
        await Expect(page.Locator(".live")).ToHaveAttributeAsync("data-live", "ended");
        await AssertNoSidewaysScrollAsync(page, "completed run, desktop");
        await tab.ScreenshotAsync("youtube-completed-desktop");

        await page.SetViewportSizeAsync(390, 844);
        await AssertNoSidewaysScrollAsync(page, "completed run, phone");
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await tab.ScreenshotAsync("youtube-completed-phone-top", fullPage: false);
        await tab.ScreenshotAsync("youtube-completed-phone");
        AssertNoPageProblems(tab);
    }

    [Test]
    public async Task RequireApproval_ApproveOneDraftRejectAnotherWithFeedback_RedoneThenCompleted()
    {
        const string feedback = "Name the sources. Add a table of prices.";
        using var client = await RegisterAsync();
        await using var tab = await OpenConnectedAsync(client.ApiKey!);
        var page = tab.Page;

        var runId = await StartRunFromFormAsync(page, RunScenarios.Goal, requireApproval: true);

        var approved = await SelectedDraftAsync(page);
        await AssertEveryControlLabelledAsync(page, "a draft waiting for review");
        await tab.ScreenshotAsync("draft-review-desktop");
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve", Exact = true }).ClickAsync();
        await Expect(NodeIn(page, approved, "completed")).ToBeVisibleAsync();

        var rejected = await SelectedDraftAsync(page, except: approved);
        await page.GetByLabel("Feedback", new() { Exact = true }).FillAsync(feedback);
        await page.GetByRole(AriaRole.Button, new() { Name = "Reject", Exact = true }).ClickAsync();

        // The redo: the agent runs again with the feedback, and its new draft waits for review in turn.
        await Expect(page.Locator($".timeline [data-type=\"task.revision_requested\"]")).ToContainTextAsync("Name the sources");
        await Expect(NodeIn(page, rejected, "waiting_human")).ToBeVisibleAsync();
        Assert.That(await SelectedDraftAsync(page), Is.EqualTo(rejected), "the redone draft is put in front of the reviewer");
        await Expect(page.Locator(".detail .output")).ToContainTextAsync("Revised after feedback");
        await Expect(page.Locator(".detail .output")).ToContainTextAsync("Name the sources");
        await tab.ScreenshotAsync("draft-redone-desktop");

        await page.SetViewportSizeAsync(390, 844);
        await AssertNoSidewaysScrollAsync(page, "draft review, phone");
        await tab.ScreenshotAsync("draft-redone-phone");
        await page.SetViewportSizeAsync(1280, 800);

        // The redone draft is approved with a person's edit, which becomes the task's output as typed.
        const string edited = "Launch plan, edited by a person:\n\n- Price at $29 a month.\n- Launch in March.";
        await page.Locator(".detail summary", new() { HasText = "Edit the draft" }).ClickAsync();
        await page.GetByLabel("Edited draft", new() { Exact = true }).FillAsync(edited);
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve edited draft", Exact = true }).ClickAsync();
        await Expect(NodeIn(page, rejected, "completed")).ToBeVisibleAsync();

        // Approve the rest as they come, until the run is done.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await RunStatus(page).GetAttributeAsync("data-status") != "completed" && DateTime.UtcNow < deadline)
        {
            var approve = page.Locator(".detail").GetByRole(AriaRole.Button, new() { Name = "Approve", Exact = true });
            if (await ClickableNowAsync(approve))
            {
                await approve.ClickAsync();
            }

            await Task.Delay(100);
        }

        await ExpectRunStatusAsync(page, "completed");
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Final output" })).Not.ToBeEmptyAsync();
        var events = await client.EventsAsync(runId);
        Assert.Multiple(() =>
        {
            Assert.That(events.Where(e => e.Str("type") == "task.revision_requested").Select(e => (e.Str("task_id"), e["data"]!.Str("feedback"))),
                Is.EqualTo(new[] { (rejected, feedback) }), "one draft was sent back, with the feedback as typed");
            Assert.That(events.Count(e => e.Str("type") == "task.completed" && e.Str("task_id") == approved), Is.EqualTo(1));
        });
        Assert.That((await client.GetRunAsync(runId))["subtasks"]![rejected]!.Str("output"), Is.EqualTo(edited), "the edit is kept exactly");
        AssertNoPageProblems(tab);
    }

    [Test]
    public async Task Runs_ListedNewestFirstWithStatusAgeAndNeedsYou_PagedTenAtATime()
    {
        using var client = await RegisterAsync();
        var older = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var id = (await client.StartRunAsync(new { task = $"Older run number {i}: research a market." })).Str("run_id");
            await client.SendAsync(HttpMethod.Delete, $"runs/{id}");
            older.Add(id);
        }

        var (waitingId, _) = await RunScenarios.StartWaitingRunAsync(client);

        await using var tab = await OpenConnectedAsync(client.ApiKey!);
        var page = tab.Page;
        var items = page.Locator(".run-list > li");
        await Expect(items).ToHaveCountAsync(10);
        await Expect(page.Locator(".page-summary")).ToHaveTextAsync("Runs 1–10 of 11.");
        var first = items.First;
        await Expect(first.GetByRole(AriaRole.Link)).ToHaveAttributeAsync("href", $"#/runs/{waitingId}");
        await Expect(first.Locator(".needs-you")).ToHaveTextAsync("Needs you");
        await Expect(first.Locator("[data-status]")).ToHaveTextAsync("waiting for you");
        await Expect(first.Locator("time")).ToHaveTextAsync("just now");
        await Expect(items.Nth(1).Locator("[data-status]")).ToHaveAttributeAsync("data-status", "cancelled");
        await Expect(page.Locator(".needs-you")).ToHaveCountAsync(1);
        await AssertNoSidewaysScrollAsync(page, "runs, desktop");
        await tab.ScreenshotAsync("runs-desktop");

        await page.GetByRole(AriaRole.Link, new() { Name = "Older runs", Exact = true }).ClickAsync();
        await Expect(items).ToHaveCountAsync(1);
        await Expect(items.First.GetByRole(AriaRole.Link)).ToHaveAttributeAsync("href", $"#/runs/{older[0]}");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Older runs", Exact = true })).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Link, new() { Name = "Newer runs", Exact = true }).ClickAsync();
        await Expect(items).ToHaveCountAsync(10);

        await page.SetViewportSizeAsync(390, 844);
        await AssertNoSidewaysScrollAsync(page, "runs, phone");
        await tab.ScreenshotAsync("runs-phone");
        await first.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(NodeIn(page, "T1", "waiting_human")).ToBeVisibleAsync();
        await AssertNoSidewaysScrollAsync(page, "a waiting run, phone");
        await tab.ScreenshotAsync("run-waiting-phone", fullPage: false);
        AssertNoPageProblems(tab);
    }

    [Test]
    public async Task NewRunForm_EveryField_ReachesTheApiAndItsErrorsShowUnderTheirFields()
    {
        using var client = await RegisterAsync();
        var (provider, _) = await client.CreateProviderAsync(new Uri("http://127.0.0.1:9/v1"), label: "Local model");
        await using var tab = await OpenConnectedAsync(client.ApiKey!);
        var page = tab.Page;
        await page.GetByRole(AriaRole.Link, new() { Name = "New run", Exact = true }).First.ClickAsync();

        await page.GetByLabel("Task", new() { Exact = true }).FillAsync("Draft a pricing page.");
        await page.GetByLabel("Ask me about", new() { Exact = true }).FillAsync("company details\n" + new string('x', 201));
        await page.GetByRole(AriaRole.Button, new() { Name = "Start run", Exact = true }).ClickAsync();
        var topics = page.GetByLabel("Ask me about", new() { Exact = true });
        await Expect(topics).ToHaveAttributeAsync("aria-invalid", "");
        await Expect(page.Locator(".field", new() { Has = topics }).Locator(".field-errors")).ToContainTextAsync("ask_me_about[1]");
        await Expect(page.Locator(".form-errors")).ToContainTextAsync("The run was not started");
        await tab.ScreenshotAsync("new-run-refused-desktop", fullPage: false);

        await topics.FillAsync("company details\n  \nbrand voice");
        await page.GetByLabel("analyst", new() { Exact = true }).UncheckAsync();
        await page.GetByLabel("Human gates", new() { Exact = true }).FillAsync("publish");
        await page.GetByLabel("Require approval", new() { Exact = true }).CheckAsync();
        await page.GetByLabel("Provider", new() { Exact = true }).SelectOptionAsync(provider);
        var runId = await SubmitRunFormAsync(page);

        var run = await client.GetRunAsync(runId);
        await client.SendAsync(HttpMethod.Delete, $"runs/{runId}");
        Assert.Multiple(() =>
        {
            Assert.That(run.Str("task"), Is.EqualTo("Draft a pricing page."));
            Assert.That(run["agents"]!.AsArray().Select(a => a!.Str("name")), Is.EqualTo(new[] { "research", "writer" }));
            Assert.That(run["ask_me_about"]!.AsArray().Select(t => t!.GetValue<string>()), Is.EqualTo(new[] { "company details", "brand voice" }), "blank lines dropped");
            Assert.That(run["human_gates"]!.AsArray().Select(t => t!.GetValue<string>()), Is.EqualTo(new[] { "publish" }));
            Assert.That(run["require_approval"]!.GetValue<bool>(), Is.True);
            Assert.That(run.Str("provider_id"), Is.EqualTo(provider));
        });
        AssertNoPageProblems(tab, allowing: "422");
    }

    [Test]
    public async Task RateLimited_TheConsoleWaitsAsLongAsRetryAfterSays()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        await using var tab = await Browser.OpenAsync();
        var page = tab.Page;
        var asked = new List<(string Kind, DateTime At)>();
        var refusedList = false;
        var refusedStream = false;
        await page.RouteAsync("**/api/v1/runs**", async route =>
        {
            var request = route.Request;
            var stream = request.Headers.TryGetValue("accept", out var accept) && accept.Contains("text/event-stream", StringComparison.Ordinal);
            asked.Add((stream ? "stream" : request.Url.Contains("/runs?limit=10", StringComparison.Ordinal) ? "list" : "other", DateTime.UtcNow));
            if (request.Url.Contains("/runs?limit=10", StringComparison.Ordinal) && !refusedList || stream && !refusedStream)
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
        await page.GotoAsync(ConsoleUrl);
        await page.GetByLabel("API key", new() { Exact = true }).FillAsync(client.ApiKey!);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use key", Exact = true }).ClickAsync();

        await Expect(page.Locator("#notice")).ToContainTextAsync("slow down");
        await Expect(page.Locator(".run-list > li")).ToHaveCountAsync(1, new() { Timeout = 10_000 });
        var lists = asked.Where(a => a.Kind == "list").Select(a => a.At).ToList();
        Assert.That((lists[1] - lists[0]).TotalSeconds, Is.GreaterThanOrEqualTo(1.9), "the list was asked again only after Retry-After");

        await page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
        await Expect(page.Locator(".live")).ToHaveAttributeAsync("data-live", "waiting");
        await Expect(page.Locator(".live")).ToHaveAttributeAsync("data-live", "live", new() { Timeout = 10_000 });
        var streams = asked.Where(a => a.Kind == "stream").Select(a => a.At).ToList();
        Assert.That((streams[1] - streams[0]).TotalSeconds, Is.GreaterThanOrEqualTo(1.9), "the stream was opened again only after Retry-After");
        AssertNoPageProblems(tab, allowing: "429");
    }

    [Test]
    public async Task CancelRun_FromThePage_AsksFirstThenShowsCancelledTasks()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        await using var tab = await OpenConnectedAsync(client.ApiKey!);
        var page = tab.Page;
        await page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
        await Expect(NodeIn(page, "T1", "waiting_human")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel run", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Keep it running", Exact = true }).ClickAsync();
        Assert.That((await client.GetRunAsync(runId)).Str("status"), Is.EqualTo("waiting_human"), "keeping it running cancels nothing");
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel run", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, cancel the run", Exact = true }).ClickAsync();

        await ExpectRunStatusAsync(page, "cancelled");
        await Expect(NodeIn(page, "T1", "cancelled")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Retry run", Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Answer", new() { Exact = true })).ToHaveCountAsync(0);
        Assert.That((await client.GetRunAsync(runId)).Str("status"), Is.EqualTo("cancelled"));
        AssertNoPageProblems(tab);
    }

    [Test]
    public async Task Key_RegisteredFromThePage_ShownOnceAndKeptInThisTabsSessionStorageOnly()
    {
        await using var tab = await Browser.OpenAsync();
        var page = tab.Page;
        await page.GotoAsync(ConsoleUrl);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Connect to Orchflow" })).ToBeVisibleAsync();
        await AssertEveryControlLabelledAsync(page, "connect");
        await tab.ScreenshotAsync("connect-desktop");

        await page.GetByLabel("API key", new() { Exact = true }).FillAsync("orch_" + new string('x', 43));
        await page.GetByRole(AriaRole.Button, new() { Name = "Use key", Exact = true }).ClickAsync();
        await Expect(page.Locator(".field-errors").First).ToContainTextAsync("key");
        Assert.That(await SessionKeyAsync(page), Is.Null, "a refused key is not kept");

        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Tarun");
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync($"{Guid.NewGuid():N}@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Register", Exact = true }).ClickAsync();
        var shown = page.GetByLabel("Your new API key", new() { Exact = true });
        await Expect(shown).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("^orch_"));
        var key = await shown.InputValueAsync();

        var storage = await page.EvaluateAsync<JsonElement>("() => ({ session: Object.keys(sessionStorage), local: localStorage.length, cookie: document.cookie })");
        var cookies = await page.Context.CookiesAsync();
        Assert.Multiple(() =>
        {
            Assert.That(storage.GetProperty("session").EnumerateArray().Select(k => k.GetString()), Is.EqualTo(new[] { "orchflow.api_key" }));
            Assert.That(storage.GetProperty("local").GetInt32(), Is.Zero, "nothing in localStorage");
            Assert.That(storage.GetProperty("cookie").GetString(), Is.Empty, "no cookie");
            Assert.That(cookies, Is.Empty, "no cookie");
            Assert.That(page.Url, Does.Not.Contain(key), "never in the address");
        });
        Assert.That(await SessionKeyAsync(page), Is.EqualTo(key));
        using (var registered = new OrchflowClient(Host.BaseAddress, key))
        {
            Assert.That((await registered.SendAsync(HttpMethod.Get, "runs")).Status, Is.EqualTo(System.Net.HttpStatusCode.OK), "the key shown works");
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Continue", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "New run", Level = 1 })).ToBeVisibleAsync();
        await AssertEveryControlLabelledAsync(page, "new run");
        await tab.ScreenshotAsync("new-run-desktop");
        await page.SetViewportSizeAsync(390, 844);
        await AssertNoSidewaysScrollAsync(page, "new run, phone");
        await tab.ScreenshotAsync("new-run-phone");

        await page.GetByRole(AriaRole.Button, new() { Name = "Forget key", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Connect to Orchflow" })).ToBeVisibleAsync();
        Assert.That(await SessionKeyAsync(page), Is.Null, "forgotten");
        await AssertNoSidewaysScrollAsync(page, "connect, phone");
        await tab.ScreenshotAsync("connect-phone");
        // The refused key was answered 401, which the browser logs as a failed request; nothing else may be logged.
        AssertNoPageProblems(tab, allowing: "401");
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

        await Host.RestartAsync();
        await Expect(live).Not.ToHaveAttributeAsync("data-live", "live", new() { Timeout = 30_000 });
        await Expect(live).ToHaveAttributeAsync("data-live", "live", new() { Timeout = 60_000 });
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
    public async Task StateChanges_ShownOnTheGraph_SoonAfterTheyAreLogged()
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
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var run = await client.GetRunAsync(runId);
            if (run.Str("status") == "completed" || DateTime.UtcNow > deadline)
            {
                break;
            }

            foreach (var task in Tasks(run).Where(t => t.Str("state") == "waiting_human" && t.Str("kind") == "agent"))
            {
                await client.CompleteAsync(runId, task.Str("task_id"), new { approved = true });
            }

            await Task.Delay(40);
        }

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
            Assert.That(median, Is.LessThan(1000), report);
            Assert.That(changes.Where(c => c.State == "running" && c.Animation != "not painted").Select(c => c.Animation).Distinct(), Is.EqualTo(new[] { "march" }),
                "running nodes move");
        });
        AssertNoPageProblems(tab);
    }

    [Test]
    public async Task Graph_WithTheKeyboardAlone_EveryNodeIsReachedAndOpensItsDetail()
    {
        using var client = await RegisterAsync();
        var runId = await RunScenarios.StartCompletedRunAsync(client);
        var run = await client.GetRunAsync(runId);
        await using var tab = await OpenConnectedAsync(client.ApiKey!);
        var page = tab.Page;
        await page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
        await ExpectRunStatusAsync(page, "completed");

        var reached = new List<string>();
        for (var presses = 0; presses < 80 && reached.Count < Tasks(run).Count; presses++)
        {
            await page.Keyboard.PressAsync("Tab");
            var focused = await page.EvaluateAsync<string?>("() => document.activeElement?.getAttribute('data-task-id') ?? null");
            if (focused is not null && !reached.Contains(focused))
            {
                reached.Add(focused);
                await page.Keyboard.PressAsync("Enter");
                await Expect(page.Locator("#detail-heading")).ToContainTextAsync($"{focused} · ");
                await page.Locator($"svg.dag [data-task-id=\"{focused}\"]").FocusAsync();
            }
        }

        Assert.That(reached, Is.EquivalentTo(Tasks(run).Select(t => t.Str("task_id"))), "every node is reached with Tab and opened with Enter");
        foreach (var task in Tasks(run))
        {
            // Named by what it shows: its id, who does it, its name and its state in words.
            await Expect(Node(page, task.Str("task_id"))).ToHaveAccessibleNameAsync(
                $"{task.Str("task_id")} · {task["agent"]?.GetValue<string>() ?? "you"} {task.Str("name")} completed");
        }

        // Running nodes move, unless the person asked for less motion.
        const string probe = @"() => {
            const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
            svg.setAttribute('class', 'dag');
            const node = document.createElementNS('http://www.w3.org/2000/svg', 'g');
            node.setAttribute('class', 'node');
            node.setAttribute('data-state', 'running');
            const shape = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
            shape.setAttribute('class', 'shape');
            node.append(shape);
            svg.append(node);
            document.body.append(svg);
            const name = getComputedStyle(shape).animationName;
            svg.remove();
            return name;
        }";
        Assert.That(await page.EvaluateAsync<string>(probe), Is.EqualTo("march"));
        await page.EmulateMediaAsync(new() { ReducedMotion = ReducedMotion.Reduce });
        Assert.That(await page.EvaluateAsync<string>(probe), Is.EqualTo("none"), "prefers-reduced-motion stops the animation");
        AssertNoPageProblems(tab);
    }

    [Test]
    public async Task Accessibility_EveryView_AtDesktopAndPhoneWidth_HasNoAxeViolation()
    {
        using var client = await RegisterAsync();
        var (waitingId, _) = await RunScenarios.StartWaitingRunAsync(client);
        var completedId = await RunScenarios.StartCompletedRunAsync(client);
        var findings = new List<string>();

        await using (var tab = await Browser.OpenAsync())
        {
            await tab.Page.GotoAsync(ConsoleUrl);
            await Expect(tab.Page.GetByLabel("API key", new() { Exact = true })).ToBeVisibleAsync();
            findings.AddRange(await AxeAsync(tab.Page, "connect"));
        }

        foreach (var (width, height) in new[] { (1280, 800), (390, 844) })
        {
            await using var tab = await OpenConnectedAsync(client.ApiKey!, width, height);
            var page = tab.Page;
            await Expect(page.Locator(".run-list > li")).ToHaveCountAsync(2);
            findings.AddRange(await AxeAsync(page, $"runs at {width}"));

            await page.GotoAsync($"{ConsoleUrl}#/new");
            await Expect(page.GetByLabel("research", new() { Exact = true })).ToBeVisibleAsync();
            findings.AddRange(await AxeAsync(page, $"new run at {width}"));

            await page.GotoAsync($"{ConsoleUrl}#/runs/{waitingId}");
            await Expect(page.GetByLabel("Answer", new() { Exact = true })).ToBeVisibleAsync();
            findings.AddRange(await AxeAsync(page, $"a waiting run at {width}"));

            await page.GotoAsync($"{ConsoleUrl}#/runs/{completedId}");
            await ExpectRunStatusAsync(page, "completed");
            await Node(page, "T1").ClickAsync();
            await Expect(page.Locator(".detail .output")).ToBeVisibleAsync();
            findings.AddRange(await AxeAsync(page, $"a completed run at {width}"));
            AssertNoPageProblems(tab);
        }

        Assert.That(findings, Is.Empty, "axe-core found accessibility problems");
    }

    /// <summary>axe-core's violations on the page as it is, one line each: the rule, its impact and where.</summary>
    static async Task<IEnumerable<string>> AxeAsync(IPage page, string view)
    {
        var result = await page.RunAxe();
        return result.Violations.Select(v =>
            $"{view}: {v.Id} ({v.Impact}) {v.Help} at {string.Join("; ", v.Nodes.Take(3).Select(n => n.Target.ToString()))}");
    }

    [Test]
    public async Task Markdown_HostileOutputs_RenderAsTextWithNoScriptNoHandlerAndNoUnsafeLink()
    {
        string[] hostile =
        [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click]( javascript:alert(1) )",
            "[click](java\tscript:alert(1))",
            "[click](data:text/html,<script>alert(1)</script>)",
            "[click](vbscript:msgbox(1))",
            "<javascript:alert(1)>",
            "**<b onmouseover=alert(1)>bold</b>**",
            "# <svg onload=alert(1)>",
            "| <iframe src=x> | b |\n|---|---|\n| <a href=javascript:x>y</a> | c |",
            "```\n</code></pre><script>alert(1)</script>\n```",
            "- item <style>body{display:none}</style>\n  - nested <object data=x>",
            "> quote <form action=x><button>go</button></form>",
            "`<script>` in code",
            "![img](x\" onerror=\"alert(1))",
            "<a href=\"javascript:alert(1)\">plain html link</a>",
        ];
        await using var tab = await Browser.OpenAsync();
        await tab.Page.GotoAsync(ConsoleUrl);
        var rendered = await RenderAsync(tab.Page, hostile);

        var allowedTags = new HashSet<string> { "p", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "a", "span", "br", "hr", "table", "thead", "tbody", "tr", "th", "td", "div" };
        Assert.Multiple(() =>
        {
            for (var i = 0; i < hostile.Length; i++)
            {
                var r = rendered[i];
                Assert.That(r.Tags.Where(t => !allowedTags.Contains(t)), Is.Empty, $"elements made from {hostile[i]}");
                Assert.That(r.Attributes.Where(a => a.StartsWith("on", StringComparison.OrdinalIgnoreCase)), Is.Empty, $"handlers made from {hostile[i]}");
                Assert.That(r.Attributes.Where(a => a.Contains("script", StringComparison.OrdinalIgnoreCase) || a.StartsWith("href=data", StringComparison.OrdinalIgnoreCase)),
                    Is.Empty, $"attributes made from {hostile[i]}");
                Assert.That(r.Attributes.Where(a => a.StartsWith("href=", StringComparison.Ordinal) && !a.StartsWith("href=http", StringComparison.Ordinal)),
                    Is.Empty, $"links made from {hostile[i]}");
            }

            Assert.That(rendered[0].Text, Is.EqualTo("<script>alert(1)</script>"), "HTML stays visible text");
            Assert.That(rendered[2].Text, Is.EqualTo("click"), "an unsafe link keeps its words, not its target");
            Assert.That(rendered[12].Text, Does.Contain("<script>alert(1)</script>"));
        });

        var safe = await RenderAsync(tab.Page,
        [
            "# Title\n\nSome **bold**, *emphasis*, `code` and a [link](https://example.com/a?b=1).\n\n- one\n- two\n  - nested\n\n1. first\n2. second\n\n" +
            "| option | price |\n|---|---:|\n| A | $5 |\n\n> quoted\n\n```js\nlet x = 1;\n```\n\n---\n\nsnake_case_name stays.",
        ]);
        Assert.Multiple(() =>
        {
            Assert.That(safe[0].Tags, Is.SupersetOf(new[] { "h3", "p", "strong", "em", "code", "a", "ul", "ol", "li", "table", "th", "td", "blockquote", "pre", "hr" }));
            Assert.That(safe[0].Attributes, Does.Contain("href=https://example.com/a?b=1"));
            Assert.That(safe[0].Text, Does.Contain("snake_case_name stays."));
        });

        var elapsed = await tab.Page.EvaluateAsync<double>(@"async () => {
            const base = document.querySelector('script[type=module]').src.replace(/app\.js$/, '');
            const { renderMarkdown } = await import(base + 'markdown.js');
            const text = '*a _b [c `d <e **f '.repeat(12000) + '\n' + '- '.repeat(20000) + '\n' + '> '.repeat(20000);
            const start = performance.now();
            renderMarkdown(text);
            return performance.now() - start;
        }");
        Assert.That(elapsed, Is.LessThan(3000), "hostile text of 300 kB renders in a moment, not quadratic time");
        AssertNoPageProblems(tab);
    }

    [Test]
    public async Task SseParser_ChunksSplitAnywhere_GiveTheSameEventsAsTheWholeStream()
    {
        await using var tab = await Browser.OpenAsync();
        await tab.Page.GotoAsync(ConsoleUrl);
        var result = await tab.Page.EvaluateAsync<JsonElement>(@"async () => {
            const base = document.querySelector('script[type=module]').src.replace(/app\.js$/, '');
            const { SseParser } = await import(base + 'stream.js');
            const text = 'id: 1\nevent: run.queued\ndata: {""sequence"":1}\n\n: ping\n\nid: 2\r\nevent: task.started\r\ndata: {""a"":\r\ndata: 1}\r\n\r\n' +
                'data:no space\rid:3\r\r: ping\n\nevent: ignored-without-data\n\nid: 4\ndata: last\n\n';
            const parse = (chunks) => {
                const events = [];
                let comments = 0;
                const parser = new SseParser(e => events.push(e), () => { comments += 1; });
                chunks.forEach(c => parser.push(c));
                return JSON.stringify({ events, comments });
            };
            const whole = parse([text]);
            const differing = [];
            for (let i = 1; i < text.length; i++) {
                if (parse([text.slice(0, i), text.slice(i)]) !== whole) differing.push(i);
            }
            const byChar = parse([...text]);
            return { whole: JSON.parse(whole), differing, byChar: byChar === whole };
        }");
        var events = result.GetProperty("whole").GetProperty("events").EnumerateArray().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(result.GetProperty("differing").GetArrayLength(), Is.Zero, "a chunk boundary anywhere changes nothing");
            Assert.That(result.GetProperty("byChar").GetBoolean(), Is.True, "one character at a time changes nothing");
            Assert.That(events.Select(e => e.GetProperty("data").GetString()), Is.EqualTo(new[] { "{\"sequence\":1}", "{\"a\":\n1}", "no space", "last" }));
            Assert.That(events.Select(e => e.GetProperty("id").GetString()), Is.EqualTo(new[] { "1", "2", "3", "4" }));
            Assert.That(events.Select(e => e.GetProperty("type").GetString()), Is.EqualTo(new[] { "run.queued", "task.started", "message", "message" }));
            Assert.That(result.GetProperty("whole").GetProperty("comments").GetInt32(), Is.EqualTo(2));
        });
    }

    /// <summary>The graph has one node per task with the run's state, human tasks drawn as hexagons, and an edge per dependency.</summary>
    static async Task AssertGraphDrawsTheRunAsync(IPage page, JsonNode run)
    {
        var nodes = await page.Locator("svg.dag [data-task-id]").EvaluateAllAsync<JsonElement>(
            "nodes => nodes.map(n => ({ id: n.dataset.taskId, kind: n.dataset.kind, shape: n.querySelector('.shape').localName, tab: n.tabIndex, role: n.getAttribute('role') }))");
        var edges = await page.Locator("svg.dag .edge").EvaluateAllAsync<string[]>("edges => edges.map(e => e.dataset.from + '>' + e.dataset.to)");
        var tasks = Tasks(run);
        Assert.Multiple(() =>
        {
            Assert.That(nodes.EnumerateArray().Select(n => n.GetProperty("id").GetString()), Is.EquivalentTo(tasks.Select(t => t.Str("task_id"))));
            foreach (var node in nodes.EnumerateArray())
            {
                var task = run["subtasks"]![node.GetProperty("id").GetString()!]!;
                Assert.That(node.GetProperty("shape").GetString(), Is.EqualTo(task.Str("kind") == "human" ? "path" : "rect"), $"{task.Str("task_id")} is drawn as its kind");
                Assert.That(node.GetProperty("tab").GetInt32(), Is.Zero, "focusable");
                Assert.That(node.GetProperty("role").GetString(), Is.EqualTo("button"));
            }

            Assert.That(edges, Is.EquivalentTo(tasks.SelectMany(t => t["depends_on"]!.AsArray().Select(d => $"{d!.GetValue<string>()}>{t.Str("task_id")}"))));
        });

        // Left to right by dependency depth: every task sits right of everything it depends on.
        var x = await page.Locator("svg.dag [data-task-id]").EvaluateAllAsync<JsonElement>(
            "nodes => Object.fromEntries(nodes.map(n => [n.dataset.taskId, n.querySelector('.shape').getBBox().x]))");
        foreach (var task in tasks)
        {
            foreach (var dep in task["depends_on"]!.AsArray())
            {
                Assert.That(x.GetProperty(task.Str("task_id")).GetDouble(), Is.GreaterThan(x.GetProperty(dep!.GetValue<string>()).GetDouble()),
                    $"{task.Str("task_id")} is drawn right of {dep}");
            }
        }
    }

    /// <summary>The id of the draft the detail panel offers for review, once one is there (and is not <paramref name="except"/>).</summary>
    static async Task<string> SelectedDraftAsync(IPage page, string? except = null)
    {
        var heading = page.Locator("#detail-heading");
        var approve = page.Locator(".detail").GetByRole(AriaRole.Button, new() { Name = "Approve", Exact = true });
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (await ClickableNowAsync(approve))
            {
                var id = (await heading.TextContentAsync())!.Split(" · ")[0];
                if (id != except && await NodeIn(page, id, "waiting_human").CountAsync() == 1)
                {
                    return id;
                }
            }

            await Task.Delay(100);
        }

        Assert.Fail("No draft was offered for review in time.");
        return "";
    }

    /// <summary>Whether the button is on the page and enabled right now; the page may replace it at any moment, so nothing waits.</summary>
    static async Task<bool> ClickableNowAsync(ILocator button)
    {
        var states = await button.EvaluateAllAsync<bool[]>("buttons => buttons.map(b => !b.disabled && b.isConnected && b.offsetParent !== null)");
        return states is [true];
    }

    static async Task<string?> SessionKeyAsync(IPage page) =>
        await page.EvaluateAsync<string?>("() => sessionStorage.getItem('orchflow.api_key')");

    static string? StateOf(string eventType) => eventType switch
    {
        "task.started" or "task.revision_requested" => "running",
        "task.waiting_human" => "waiting_human",
        "task.completed" => "completed",
        "task.failed" => "failed",
        "task.cancelled" => "cancelled",
        _ => null,
    };

    sealed record Rendered(string Text, IReadOnlyList<string> Tags, IReadOnlyList<string> Attributes);

    static async Task<IReadOnlyList<Rendered>> RenderAsync(IPage page, IReadOnlyList<string> inputs)
    {
        var result = await page.EvaluateAsync<JsonElement>(@"async (inputs) => {
            const base = document.querySelector('script[type=module]').src.replace(/app\.js$/, '');
            const { renderMarkdown } = await import(base + 'markdown.js');
            return inputs.map(text => {
                const box = document.createElement('div');
                box.append(renderMarkdown(text));
                const all = [...box.querySelectorAll('*')];
                return { text: box.textContent, tags: all.map(e => e.localName), attributes: all.flatMap(e => [...e.attributes].map(a => a.name + '=' + a.value)) };
            });
        }", inputs);
        return result.EnumerateArray().Select(r => new Rendered(
            r.GetProperty("text").GetString()!,
            r.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToList(),
            r.GetProperty("attributes").EnumerateArray().Select(a => a.GetString()!).ToList())).ToList();
    }
}
