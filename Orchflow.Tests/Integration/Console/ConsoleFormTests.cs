using System.Text.Json.Nodes;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Orchflow.Tests.Integration.Api;

namespace Orchflow.Tests.Integration.Console;

/// <summary>
/// A human task's form in the console (docs/api.md, "Forms"), in headless Chromium: a labelled control per field (a
/// choice as a select, a yes-or-no as a checkbox, numbers with their bounds), required fields marked, the server's 422
/// beside the field it names, free text beneath; checked by axe at a desktop's and a phone's width.
/// </summary>
[TestFixture]
public sealed class ConsoleFormTests : ConsoleTests
{
    static readonly JsonObject Run = new()
    {
        ["task"] = RunScenarios.Goal,
        ["ask_me_about"] = new JsonArray(
            "company details",
            new JsonObject { ["name"] = "budget_usd", ["title"] = "Monthly budget", ["type"] = "integer", ["minimum"] = 0, ["maximum"] = 100000 },
            new JsonObject
            {
                ["name"] = "tone", ["title"] = "Tone", ["description"] = "How the launch should sound.", ["type"] = "string",
                ["enum"] = new JsonArray("direct", "playful"),
            },
            new JsonObject { ["name"] = "contact", ["title"] = "Contact email", ["type"] = "string", ["format"] = "email", ["required"] = false },
            new JsonObject { ["name"] = "public", ["title"] = "Public launch", ["type"] = "boolean", ["required"] = false }),
    };

    [Test]
    public async Task WaitingTaskWithAForm_FilledByLabel_ErrorsBesideTheirFieldsThenSent()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(Run.DeepClone())).Str("run_id");
        await client.WaitForRunAsync(runId, r => r["subtasks"]?["T1"]?["state"]?.GetValue<string>() == "waiting_human");
        await using var tab = await OpenConnectedAsync(client.ApiKey!);
        var page = tab.Page;
        await page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
        await Node(page, "T1").ClickAsync();

        var company = page.GetByLabel("company details (required)", new() { Exact = true });
        var budget = page.GetByLabel("Monthly budget (required)", new() { Exact = true });
        var tone = page.GetByLabel("Tone (required)", new() { Exact = true });
        var contact = page.GetByLabel("Contact email", new() { Exact = true });
        var launch = page.GetByLabel("Public launch", new() { Exact = true });
        await Expect(budget).ToHaveAttributeAsync("type", "number");
        await Expect(budget).ToHaveAttributeAsync("min", "0");
        await Expect(budget).ToHaveAttributeAsync("max", "100000");
        await Expect(page.Locator(".input-form").GetByText("A whole number from 0 to 100000.")).ToBeVisibleAsync();
        await Expect(tone).ToHaveJSPropertyAsync("tagName", "SELECT");
        await Expect(page.Locator(".input-form").GetByText("How the launch should sound.")).ToBeVisibleAsync();
        await Expect(contact).ToHaveAttributeAsync("type", "email");
        await Expect(launch).ToHaveAttributeAsync("type", "checkbox");
        await Expect(page.GetByLabel("Answer", new() { Exact = true })).ToBeVisibleAsync();
        await AssertEveryControlLabelledAsync(page, "a task waiting with a form");

        // The browser lets these through; the server's 422 names each field, shown beside it.
        await company.FillAsync("A workflow API for AI apps.");
        await budget.FillAsync("12.5");
        await contact.FillAsync("not an address");
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit form", Exact = true }).ClickAsync();

        await Expect(budget).ToHaveAttributeAsync("aria-invalid", "");
        await Expect(page.Locator($"#{await budget.GetAttributeAsync("id")}-errors")).ToContainTextAsync("Monthly budget");
        await Expect(page.Locator($"#{await tone.GetAttributeAsync("id")}-errors")).ToContainTextAsync("'Tone' is required.");
        await Expect(page.Locator($"#{await contact.GetAttributeAsync("id")}-errors")).ToContainTextAsync("email");
        await Expect(company).Not.ToHaveAttributeAsync("aria-invalid", "");
        Assert.That((await client.GetRunAsync(runId))["subtasks"]!["T1"]!.Str("state"), Is.EqualTo("waiting_human"), "nothing was stored");
        await tab.ScreenshotAsync("form-errors-desktop");

        await budget.FillAsync("5000");
        await tone.SelectOptionAsync("playful");
        await contact.FillAsync("ana@example.com");
        await launch.CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit form", Exact = true }).ClickAsync();

        await Expect(NodeIn(page, "T1", "completed")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        var answered = (await client.GetRunAsync(runId))["subtasks"]!["T1"]!;
        Assert.That(answered["input"]!.ToJsonString(), Is.EqualTo(
            """{"company_details":"A workflow API for AI apps.","budget_usd":5000,"tone":"playful","contact":"ana@example.com","public":true}"""));
        await Expect(page.Locator(".detail .output")).ToContainTextAsync("Monthly budget");
        AssertNoPageProblems(tab, allowing: "422");
    }

    [Test]
    public async Task WaitingTaskWithAForm_AtDesktopAndPhoneWidth_HasNoAxeViolationAndNoSidewaysScroll()
    {
        using var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(Run.DeepClone())).Str("run_id");
        await client.WaitForRunAsync(runId, r => r["subtasks"]?["T1"]?["state"]?.GetValue<string>() == "waiting_human");
        var findings = new List<string>();

        foreach (var (width, height, name) in new[] { (1280, 800, "desktop"), (390, 844, "phone") })
        {
            await using var tab = await OpenConnectedAsync(client.ApiKey!, width, height);
            var page = tab.Page;
            await page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
            await Node(page, "T1").ClickAsync();
            await Expect(page.GetByLabel("Monthly budget (required)", new() { Exact = true })).ToBeVisibleAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Submit form", Exact = true }).ClickAsync();
            await Expect(page.GetByLabel("Tone (required)", new() { Exact = true })).ToHaveAttributeAsync("aria-invalid", "");

            var result = await page.RunAxe();
            findings.AddRange(result.Violations.Select(v => $"{name}: {v.Id} ({v.Impact}) {v.Help} at {string.Join("; ", v.Nodes.Take(3).Select(n => n.Target.ToString()))}"));
            await AssertNoSidewaysScrollAsync(page, $"a form with its errors, {name}");
            await page.Locator(".input-form").ScrollIntoViewIfNeededAsync();
            await tab.ScreenshotAsync($"form-{name}");
            AssertNoPageProblems(tab, allowing: "422");
        }

        Assert.That(findings, Is.Empty, "axe-core found accessibility problems");
        Assert.That((await client.GetRunAsync(runId))["subtasks"]!["T1"]!.Str("state"), Is.EqualTo("waiting_human"));
    }
}
