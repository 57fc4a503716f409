using System.Text.Json;
using System.Text.Json.Nodes;
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
public sealed partial class ConsoleBrowserTests : ConsoleTests
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
}
