using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Orchflow.Tests.Integration.Api;

namespace Orchflow.Tests.Integration.Console;

/// <summary>The console for everyone: the graph by keyboard alone, and every view checked by axe-core at two widths.</summary>
public sealed partial class ConsoleBrowserTests
{
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
}
