using System.Net;
using Microsoft.Playwright;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Models;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Console;

/// <summary>
/// The console in the first hour of an evaluation, in Chromium at 1280 and 390 px: providers and the trial runs left,
/// a graph a phone can read and scroll, edges that go around tasks, the chosen task above a long final output, a
/// final approval that shows what it approves, and a refused key explained in a person's words.
/// </summary>
[TestFixture]
public sealed class ConsoleFirstHourTests : ConsoleTests
{
    static readonly (int Width, int Height)[] Windows = [(1280, 800), (390, 844)];

    [Test]
    public async Task Providers_AddedListedAndDeleted_ShowTheTrialRunsLeftAndNeverTheKey()
    {
        using var client = await RegisterAsync();
        var key = "sk-console-" + Guid.NewGuid().ToString("N");
        await using var tab = await OpenConnectedAsync(client.ApiKey!);
        var page = tab.Page;

        await page.GetByRole(AriaRole.Link, new() { Name = "Providers", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Providers", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.Locator(".trial")).ToContainTextAsync("1,000 managed trial runs left");
        await page.GetByLabel("Provider", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "Google Gemini" });
        await page.GetByLabel("Label", new() { Exact = true }).FillAsync("My Gemini key");
        await page.GetByLabel("Model", new() { Exact = true }).FillAsync("gemini-2.0-flash-lite");
        await page.GetByLabel("API key", new() { Exact = true }).FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add provider", Exact = true }).ClickAsync();

        var listed = page.GetByRole(AriaRole.List, new() { Name = "Your providers" }).Locator("li");
        await Expect(listed).ToHaveCountAsync(1);
        await Expect(listed).ToContainTextAsync("My Gemini key");
        var providers = ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "providers"), HttpStatusCode.OK)["providers"]!.AsArray();
        var content = await page.ContentAsync();
        var keyField = await page.GetByLabel("API key", new() { Exact = true }).InputValueAsync();
        Assert.Multiple(() =>
        {
            Assert.That(providers.Select(p => p!.Str("label")), Is.EqualTo(new[] { "My Gemini key" }));
            Assert.That(content, Does.Not.Contain(key), "the key is never shown again");
            Assert.That(keyField, Is.Empty, "the form was cleared");
        });
        await AssertEveryControlLabelledAsync(page, "providers");
        await tab.ScreenshotAsync("first-hour-1280-providers");
        await page.SetViewportSizeAsync(390, 844);
        await AssertNoSidewaysScrollAsync(page, "providers, phone");
        await tab.ScreenshotAsync("first-hour-390-providers");
        await page.SetViewportSizeAsync(1280, 800);

        await page.GetByRole(AriaRole.Button, new() { Name = "Delete My Gemini key", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete My Gemini key", Exact = true }).ClickAsync();

        await Expect(listed).ToHaveCountAsync(0);
        Assert.That(ApiAssert.Json(await client.SendAsync(HttpMethod.Get, "providers"), HttpStatusCode.OK)["providers"]!.AsArray(), Is.Empty);
        AssertNoPageProblems(tab);
    }

    [Test]
    public async Task Graph_AtAPhonesWidth_KeepsItsTextReadableScrollsInItsBoxAndSaysSo()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = YouTubeTask, ask_me_about = YouTubeTopics })).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");
        await using var tab = await OpenConnectedAsync(client.ApiKey!, 390, 844);
        var page = tab.Page;

        await page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
        await Expect(NodeIn(page, "T1", "waiting_human")).ToBeVisibleAsync();

        var box = page.GetByRole(AriaRole.Region, new() { Name = "Graph of the tasks" });
        var measured = await box.EvaluateAsync<double[]>(@"box => {
            const name = box.querySelector('.node-name');
            const svg = box.querySelector('svg.dag');
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return [parseFloat(getComputedStyle(name).fontSize) * scale, box.scrollWidth, box.clientWidth];
        }");
        await Expect(page.GetByText("scroll it sideways")).ToBeVisibleAsync();
        await page.Locator("#graph-heading").ScrollIntoViewIfNeededAsync();
        await page.EvaluateAsync("() => document.getElementById('graph-heading').scrollIntoView()");
        await tab.ScreenshotAsync("first-hour-390-graph", fullPage: false);
        await box.EvaluateAsync("box => { box.scrollLeft = box.scrollWidth; }");
        var last = await Node(page, "T11").BoundingBoxAsync();
        var shown = await box.BoundingBoxAsync();
        await tab.ScreenshotAsync("first-hour-390-graph-scrolled", fullPage: false);
        Assert.Multiple(() =>
        {
            Assert.That(measured[0], Is.GreaterThanOrEqualTo(11.0), "a task's name is at least 11 px on the screen");
            Assert.That(measured[1], Is.GreaterThan(measured[2]), "the graph scrolls in its box");
            Assert.That(last!.X + last.Width, Is.LessThanOrEqualTo(shown!.X + shown.Width + 1), "scrolled to its end, the last task shows whole");
        });
        await AssertNoSidewaysScrollAsync(page, "a wide graph, phone");
        AssertNoPageProblems(tab);
    }

    [Test]
    public async Task Graph_EdgesThatSkipAColumn_RunAroundTheTasksBetween()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = YouTubeTask, ask_me_about = YouTubeTopics })).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");
        await using var tab = await OpenConnectedAsync(client.ApiKey!);
        var page = tab.Page;
        await page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
        await Expect(NodeIn(page, "T1", "waiting_human")).ToBeVisibleAsync();

        // Points along every edge, in the graph's own units, that fall inside a task the edge does not join.
        var crossings = await page.EvaluateAsync<string[]>(@"() => {
            const shapes = [...document.querySelectorAll('svg.dag .node')].map(n => ({ id: n.dataset.taskId, box: n.querySelector('.shape').getBBox() }));
            const found = [];
            let long = 0;
            for (const edge of document.querySelectorAll('svg.dag .edge')) {
                const { from, to } = edge.dataset;
                const length = edge.getTotalLength();
                for (let at = 0; at <= length; at += 2) {
                    const p = edge.getPointAtLength(at);
                    for (const { id, box } of shapes) {
                        if (id !== from && id !== to && p.x > box.x + 2 && p.x < box.x + box.width - 2 && p.y > box.y + 2 && p.y < box.y + box.height - 2) {
                            found.push(`${from}->${to} behind ${id}`);
                        }
                    }
                }
            }
            return [...new Set(found)];
        }");
        var skipping = await page.EvaluateAsync<int>(@"() => [...document.querySelectorAll('svg.dag .edge')]
            .filter(e => (e.getAttribute('d').match(/ L/g) ?? []).length > 0).length");

        await tab.ScreenshotAsync("first-hour-1280-graph");
        Assert.Multiple(() =>
        {
            Assert.That(skipping, Is.GreaterThan(0), "the YouTube plan has edges that skip columns (T1 to T8), or this proves nothing");
            Assert.That(crossings, Is.Empty);
        });
    }

    [Test]
    public async Task CompletedRun_ChoosingATask_ShowsItsDetailAboveTheFinalOutputWithoutAJump()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = YouTubeTask })).Str("run_id");
        await client.WaitForStatusAsync(runId, "completed");

        foreach (var (width, height) in Windows)
        {
            await using var tab = await OpenConnectedAsync(client.ApiKey!, width, height);
            var page = tab.Page;
            await page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
            await ExpectRunStatusAsync(page, "completed");
            await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Final output" })).ToContainTextAsync("30-day content plan");
            var before = await page.EvaluateAsync<double>("() => window.scrollY");

            await Node(page, "T2").ClickAsync();

            await Expect(page.Locator(".detail h2")).ToContainTextAsync("T2");
            var after = await page.EvaluateAsync<double>("() => window.scrollY");
            var detail = await page.Locator(".detail").BoundingBoxAsync();
            var final = await page.GetByRole(AriaRole.Region, new() { Name = "Final output" }).BoundingBoxAsync();
            await tab.ScreenshotAsync($"first-hour-{width}-completed-task-chosen", fullPage: false);
            Assert.Multiple(() =>
            {
                Assert.That(detail!.Y, Is.LessThan(final!.Y), $"{width} px: the task's detail comes before the final output");
                // Under the graph, not under the final output: at a phone's width the graph alone is most of a screen.
                Assert.That(after - before, Is.LessThan(height * 1.5), $"{width} px: choosing a task scrolls past the graph only");
            });
        }
    }

    [Test]
    public async Task FinalApproval_WaitingForYou_ShowsTheOutputItApproves()
    {
        using var client = await RegisterAsync();
        var example = SimulatedRuns.Find("Content");
        var runId = (await client.StartRunAsync(new { task = example.Goal, ask_me_about = example.AskMeAbout, human_gates = example.HumanGates })).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");
        ApiAssert.Json(await client.CompleteAsync(runId, "T1", new { output = "Brand voice: plain and warm." }), HttpStatusCode.OK);
        var run = await client.WaitForRunAsync(runId, r => r["waiting_on"]!.AsArray().Any(t => t!.GetValue<string>() != "T1"));
        var approval = Tasks(run).Single(t => t.Str("name").Contains("final approval", StringComparison.OrdinalIgnoreCase));
        var approved = approval["inputs"]!.AsArray().Last()!;

        foreach (var (width, height) in Windows)
        {
            await using var tab = await OpenConnectedAsync(client.ApiKey!, width, height);
            var page = tab.Page;
            await page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
            await Expect(page.GetByLabel("Answer", new() { Exact = true })).ToBeVisibleAsync();

            var depends = page.GetByRole(AriaRole.Region, new() { Name = $"Output of {approved.Str("task_id")}" });
            await Expect(page.Locator(".detail h2")).ToContainTextAsync(approval.Str("task_id"));
            await Expect(page.Locator(".detail")).ToContainTextAsync("What this depends on");
            await Expect(depends).ToContainTextAsync("what works, what to skip");
            await AssertEveryControlLabelledAsync(page, $"final approval at {width}");
            await AssertNoSidewaysScrollAsync(page, $"final approval at {width}");
            await tab.ScreenshotAsync($"first-hour-{width}-final-approval");
            Assert.That(await AxeAsync(page, $"final approval at {width}"), Is.Empty);
            AssertNoPageProblems(tab);
        }
    }

    [TestCase("orch_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "does not know this key")]
    [TestCase("sk-not-an-orchflow-key", "not an Orchflow API key")]
    public async Task WrongKey_Refused_IsExplainedInAPersonsWordsNotInHeaderTerms(string wrong, string words)
    {
        await using var tab = await Browser.OpenAsync();
        var page = tab.Page;
        await page.GotoAsync(ConsoleUrl);

        await page.GetByLabel("API key", new() { Exact = true }).FillAsync(wrong);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use key", Exact = true }).ClickAsync();

        var errors = page.Locator(".field-errors").First;
        await Expect(errors).ToContainTextAsync(words);
        Assert.That(await errors.TextContentAsync(), Does.Not.Contain("header").And.Not.Contain("X-API-Key"));
        AssertNoPageProblems(tab, allowing: "401");
    }

    [Test]
    public async Task ProvidersAndRunPages_AtBothWidths_HaveNoAxeFindings()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new { task = YouTubeTask, ask_me_about = YouTubeTopics })).Str("run_id");
        await client.WaitForStatusAsync(runId, "waiting_human");
        var findings = new List<string>();

        foreach (var (width, height) in Windows)
        {
            await using var tab = await OpenConnectedAsync(client.ApiKey!, width, height);
            var page = tab.Page;
            await page.GotoAsync($"{ConsoleUrl}#/providers");
            await Expect(page.Locator(".trial")).ToContainTextAsync("trial runs left");
            findings.AddRange(await AxeAsync(page, $"providers at {width}"));

            await page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
            await Expect(NodeIn(page, "T1", "waiting_human")).ToBeVisibleAsync();
            findings.AddRange(await AxeAsync(page, $"a wide graph at {width}"));
            AssertNoPageProblems(tab);
        }

        Assert.That(findings, Is.Empty, "axe-core found accessibility problems");
    }
}
