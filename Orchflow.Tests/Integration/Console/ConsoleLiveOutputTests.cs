using System.Text.Json;
using Microsoft.Playwright;
using Orchflow.Tests.Integration.Api;

namespace Orchflow.Tests.Integration.Console;

/// <summary>
/// Text seen as it is written: on a host whose simulated model takes seconds per call (it streams a few words at a time
/// over that time), a research task's text grows in its details while its node says it is writing, and the final output
/// grows in its section while the synthesis writes it; once done, each is the output the run keeps.
/// </summary>
[TestFixture]
public sealed class ConsoleLiveOutputTests : ConsoleTests
{
    /// <summary>Each simulated call writes its text in up to 60 pieces over this time: long enough to watch it grow.</summary>
    const int ModelCallMs = 9000;

    protected override IReadOnlyDictionary<string, string>? HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__Simulated__LatencyMs"] = ModelCallMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Orchflow__TrialRuns"] = "1000",
    };

    /// <summary>
    /// Records, at every change of the page, what the live texts show (the length of the text written, its finished
    /// paragraphs as formatted, the one being written) and what T2's node says.
    /// </summary>
    const string Recorder = @"() => {
        window.liveSamples = [];
        const shown = (selector) => {
            const box = document.querySelector(selector);
            return box && !box.closest('[hidden]')
                ? { length: Number(box.dataset.length), done: box.querySelector('.markdown').textContent, tail: box.querySelector('.live-tail').textContent }
                : null;
        };
        new MutationObserver(() => {
            const node = document.querySelector('svg.dag [data-task-id=""T2""]');
            window.liveSamples.push({
                task: shown('.detail .live-text'),
                final: shown('.final .live-text'),
                state: node ? node.dataset.state : null,
                writing: node ? node.hasAttribute('data-writing') : false,
                words: node ? node.querySelector('.node-state').textContent : null,
                status: document.querySelector('.status-slot [data-status]')?.dataset.status ?? null,
            });
        }).observe(document.querySelector('main'), { subtree: true, childList: true, characterData: true, attributes: true });
    }";

    sealed record Shown(int Length, string Done, string Tail);

    sealed record Sample(Shown? Task, Shown? Final, string? State, bool Writing, string? Words, string? Status);

    [TestCase(1280, 800, "desktop")]
    [TestCase(390, 844, "phone")]
    public async Task LiveText_WhileATaskWrites_GrowsInItsDetailsAndItsNodeSaysWriting_ThenIsTheOutputKept(int width, int height, string name)
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new
        {
            task = "Research competitor pricing for our launch.",
            plan = new
            {
                tasks = new object[]
                {
                    new { task_id = "T1", name = "Company details", kind = "human", depends_on = Array.Empty<string>(), prompt = "What does the company sell?" },
                    new { task_id = "T2", name = "Research competitor pricing", kind = "agent", agent = "research", depends_on = new[] { "T1" } },
                },
            },
        })).Str("run_id");
        await client.WaitForRunAsync(runId, r => r["subtasks"]?["T1"]?["state"]?.GetValue<string>() == "waiting_human");
        await using var tab = await OpenConnectedAsync(client.ApiKey!, width, height);
        var page = tab.Page;
        await page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
        await Expect(page.Locator(".live")).ToHaveAttributeAsync("data-live", "live");
        await page.EvaluateAsync(Recorder);

        await page.GetByLabel("Answer", new() { Exact = true }).FillAsync("A workflow API for AI apps.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit answer", Exact = true }).ClickAsync();
        await Node(page, "T2").ClickAsync();

        // Seen while T2 writes: its text in its details, and its node saying so.
        var text = page.GetByRole(AriaRole.Region, new() { Name = "Text T2 is writing", Exact = true });
        await Expect(text).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(Node(page, "T2")).ToHaveAttributeAsync("data-writing", "");
        await Expect(Node(page, "T2")).ToHaveAccessibleNameAsync("T2 · research Research competitor pricing writing…");
        await tab.ScreenshotAsync($"live-output-{name}", fullPage: width > 800);
        var findings = await AxeAsync(page, $"a task writing, at {width}");
        await AssertNoSidewaysScrollAsync(page, $"a task writing, at {width}");

        await ExpectRunStatusAsync(page, "completed");
        var run = await client.GetRunAsync(runId);
        var output = run["subtasks"]!["T2"]!.Str("output");
        var final = run.Str("final_output");
        var samples = (await page.EvaluateAsync<JsonElement>("() => window.liveSamples")).Deserialize<List<Sample>>(new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;
        var whileWriting = samples.Where(s => s.Task is { Length: > 0 } && s.State == "running").Select(s => s.Task!).ToList();
        var finalWhileWriting = samples.Where(s => s.Final is { Length: > 0 } && s.Status != "completed").Select(s => s.Final!).ToList();
        await Node(page, "T2").ClickAsync();
        var outputShown = await page.GetByRole(AriaRole.Region, new() { Name = "Output of T2", Exact = true }).TextContentAsync();
        var finalBody = page.GetByRole(AriaRole.Region, new() { Name = "Final output", Exact = true }).Locator(".markdown").First;
        await Expect(finalBody).Not.ToBeEmptyAsync();
        var finalShown = await finalBody.TextContentAsync();

        Assert.Multiple(() =>
        {
            Assert.That(findings, Is.Empty, "axe-core found accessibility problems");
            Assert.That(whileWriting.Select(t => t.Length).Distinct().Count(), Is.GreaterThanOrEqualTo(3), "T2's text was seen growing before T2 completed");
            Assert.That(whileWriting.Select(t => t.Length), Is.Ordered, "it only grows");
            Assert.That(whileWriting.Where(t => !outputShown!.StartsWith(t.Done, StringComparison.Ordinal)), Is.Empty,
                "its finished paragraphs show as the output kept does");
            Assert.That(whileWriting.Where(t => !output.Contains(t.Tail, StringComparison.Ordinal)), Is.Empty, "and the one being written is the output's own text");
            Assert.That(whileWriting.Where(t => t.Done.Length > 0), Is.Not.Empty, "paragraphs were seen finished while T2 wrote");
            Assert.That(samples.Any(s => s.State == "running" && s.Writing && s.Words == "writing…"), Is.True, "the node said it was writing");
            Assert.That(samples.Where(s => s.State == "completed").Select(s => s.Words).Distinct(), Is.EqualTo(new[] { "completed" }), "and stops saying so when done");
            Assert.That(finalWhileWriting.Select(t => t.Length).Distinct().Count(), Is.GreaterThanOrEqualTo(2), "the final output was seen growing before the run completed");
            Assert.That(finalWhileWriting.Where(t => !finalShown!.StartsWith(t.Done, StringComparison.Ordinal) || !final.Contains(t.Tail, StringComparison.Ordinal)), Is.Empty,
                "as the start of the final output kept");
        });
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Output of T2", Exact = true })).ToContainTextAsync("Context from the human");
        await Expect(page.Locator(".detail .live-output")).ToHaveCountAsync(0);
        await Expect(page.Locator(".final .live-output")).ToBeHiddenAsync();
        await Expect(Node(page, "T2")).Not.ToHaveAttributeAsync("data-writing", "");
        AssertNoPageProblems(tab);
    }
}
