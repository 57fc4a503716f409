using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Orchflow.Tests.Integration.Api;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Console;

/// <summary>
/// Tool calls in the console: a run on the simulated model whose research task reads a page on a loopback web server
/// with <c>fetch_url</c>, every call of which waits for a person. The call is approved, approved with edited arguments
/// (JSON checked on the page, the tool's schema by Orchflow) or refused with a reason, from the task's details; each
/// call then shows there with its arguments, state and result or reason. At a desktop window and a phone's width, with axe.
/// </summary>
[TestFixture]
public sealed class ConsoleToolCallTests : ConsoleTests
{
    const string PricingPage = """
        <!doctype html><html><head><title>Acme pricing</title></head>
        <body><h1>Plans</h1><p>Starter costs 9 euros a month. Pro costs 29 euros a month.</p></body></html>
        """;

    LoopbackPages pages = null!;

    [OneTimeSetUp]
    public async Task StartPagesAsync() => pages = await LoopbackPages.StartAsync();

    [OneTimeTearDown]
    public async Task StopPagesAsync() => await pages.DisposeAsync();

    /// <summary>
    /// A run whose one task (research) reads <paramref name="path"/> with fetch_url, a call a person must approve; it is
    /// shown in the console once the call waits.
    /// </summary>
    async Task<(OrchflowClient Client, ConsolePage Tab, string RunId)> OpenRunWaitingOnACallAsync(string path, int width = 1280, int height = 800)
    {
        pages.Serve(path, "text/html; charset=utf-8", PricingPage);
        var client = await RegisterAsync();
        var runId = (await client.StartRunAsync(new
        {
            task = $"Summarise the prices on the page at {pages.Url(path)} for our launch.",
            tools = new[] { "fetch_url" },
            approve_tools = new[] { "fetch_url" },
            plan = new
            {
                tasks = new object[]
                {
                    new { task_id = "T1", name = "Read the pricing page", kind = "agent", agent = "research", depends_on = Array.Empty<string>() },
                },
            },
        })).Str("run_id");
        await client.WaitForRunAsync(runId, r => r["subtasks"]?["T1"]?["pending_tool_call"] is JsonObject);
        var tab = await OpenConnectedAsync(client.ApiKey!, width, height);
        await tab.Page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
        await Expect(Form(tab.Page)).ToBeVisibleAsync();
        return (client, tab, runId);
    }

    static ILocator Form(IPage page) => page.GetByRole(AriaRole.Region, new() { Name = "Tool call waiting for you", Exact = true });

    static ILocator Calls(IPage page) => page.Locator(".detail .tool-call");

    [Test]
    public async Task ToolCall_ApprovedInTheConsole_IsMadeAndItsArgumentsStateAndResultShowInTheTask()
    {
        var (client, tab, runId) = await OpenRunWaitingOnACallAsync("approve/pricing");
        using var _ = client;
        await using var __ = tab;
        var page = tab.Page;
        var url = pages.Url("approve/pricing");
        var findings = new List<string>();

        // What waits, where a person looks first: the Needs you list, the node, and the form with the call's arguments.
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Approve or refuse a tool call of T1: Read the pricing page", Exact = true })).ToBeVisibleAsync();
        await Expect(NodeIn(page, "T1", "waiting_human")).ToBeVisibleAsync();
        var form = Form(page);
        await Expect(form).ToContainTextAsync("T1 asks to call fetch_url");
        await Expect(form.GetByRole(AriaRole.Region, new() { Name = "Arguments T1 asks to call fetch_url with", Exact = true }))
            .ToHaveTextAsync(JsonSerializer.Serialize(new { url }, new JsonSerializerOptions { WriteIndented = true }));
        await form.GetByText("What fetch_url takes", new() { Exact = true }).ClickAsync();
        await Expect(form.Locator(".tool-schema")).ToContainTextAsync("url (string, required): The absolute http or https address of the page.");
        await Expect(Calls(page)).ToHaveCountAsync(1);
        await Expect(Calls(page).First).ToHaveAttributeAsync("data-state", "waiting_human");
        await AssertEveryControlLabelledAsync(page, "a tool call waiting for approval");
        findings.AddRange(await AxeAsync(page, "a tool call waiting, at 1280"));
        await tab.ScreenshotAsync("tool-approval-desktop");

        await page.SetViewportSizeAsync(390, 844);
        await AssertNoSidewaysScrollAsync(page, "a tool call waiting, phone");
        findings.AddRange(await AxeAsync(page, "a tool call waiting, at 390"));
        await form.ScrollIntoViewIfNeededAsync();
        await tab.ScreenshotAsync("tool-approval-phone", fullPage: false);
        await page.SetViewportSizeAsync(1280, 800);
        Assert.That(pages.Requests.Where(r => r.Path == "/approve/pricing"), Is.Empty, "nothing is fetched before a person approves");

        await form.GetByRole(AriaRole.Button, new() { Name = "Approve", Exact = true }).ClickAsync();

        await ExpectRunStatusAsync(page, "completed");
        await Node(page, "T1").ClickAsync();
        var call = Calls(page).First;
        await Expect(call).ToHaveAttributeAsync("data-state", "completed");
        await Expect(call.Locator(".badge")).ToHaveTextAsync("completed");
        await Expect(call.GetByRole(AriaRole.Region, new() { Name = "Arguments of call 1. fetch_url", Exact = true })).ToContainTextAsync(url);
        await call.GetByText("Result (", new() { Exact = false }).ClickAsync();
        await Expect(call.GetByRole(AriaRole.Region, new() { Name = "Result of call 1. fetch_url", Exact = true })).ToContainTextAsync("Starter costs 9 euros a month.");
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Output of T1", Exact = true })).ToContainTextAsync("Title: Acme pricing");
        await Expect(page.Locator(".timeline")).ToContainTextAsync("T1 calls fetch_url (approved)");
        Assert.That(pages.Requests.Count(r => r.Path == "/approve/pricing"), Is.EqualTo(1), "the approved call is made once");
        var recorded = (await client.GetRunAsync(runId))["subtasks"]!["T1"]!["tool_calls"]!.AsArray();
        Assert.That(recorded.Select(c => c!.Str("state")), Is.EqualTo(new[] { "completed" }));

        await page.SetViewportSizeAsync(390, 844);
        await AssertNoSidewaysScrollAsync(page, "a completed tool call, phone");
        findings.AddRange(await AxeAsync(page, "a completed tool call, at 390"));
        await call.ScrollIntoViewIfNeededAsync();
        await tab.ScreenshotAsync("tool-call-completed-phone", fullPage: false);
        Assert.That(findings, Is.Empty, "axe-core found accessibility problems");
        AssertNoPageProblems(tab);
    }

    [Test]
    public async Task ToolCall_ArgumentsEdited_NotJsonIsRefusedOnThePage_ASchemaBreakIsShownBesideTheField_AValidEditIsMade()
    {
        pages.Serve("edit/other", "text/html; charset=utf-8", "<html><head><title>Other</title></head><body><p>Team plan: ask us.</p></body></html>");
        var (client, tab, runId) = await OpenRunWaitingOnACallAsync("edit/pricing");
        using var _ = client;
        await using var __ = tab;
        var page = tab.Page;
        var form = Form(page);
        await form.GetByText("Edit arguments", new() { Exact = true }).ClickAsync();
        var editor = form.GetByLabel("Arguments (JSON)", new() { Exact = true });
        var send = form.GetByRole(AriaRole.Button, new() { Name = "Approve with edited arguments", Exact = true });
        var problems = form.Locator(".edit-arguments .field-errors");

        await editor.FillAsync("{\"url\": ");
        await send.ClickAsync();
        await Expect(problems).ToContainTextAsync("This is not JSON");
        await Expect(editor).ToHaveAttributeAsync("aria-invalid", "");
        await editor.FillAsync("[\"https://example.com/\"]");
        await send.ClickAsync();
        await Expect(problems).ToContainTextAsync("The arguments must be a JSON object");

        // JSON, but not what fetch_url takes: Orchflow's 422 names the argument, beside the field.
        await editor.FillAsync("{\"url\": 5}");
        await send.ClickAsync();
        await Expect(problems).ToContainTextAsync("url: ");
        await Expect(form.Locator(".form-status")).ToHaveTextAsync("Not sent: see the message above.");
        await Expect(send).ToBeEnabledAsync();
        Assert.That((await client.GetRunAsync(runId))["subtasks"]!["T1"]!.Str("state"), Is.EqualTo("waiting_human"), "a refused edit leaves the call waiting");
        await tab.ScreenshotAsync("tool-approval-edit-refused");

        var other = pages.Url("edit/other");
        await editor.FillAsync($"{{\"url\": \"{other}\"}}");
        await send.ClickAsync();

        await ExpectRunStatusAsync(page, "completed");
        await Node(page, "T1").ClickAsync();
        var call = Calls(page).First;
        await Expect(call).ToHaveAttributeAsync("data-state", "completed");
        await Expect(call.GetByRole(AriaRole.Region, new() { Name = "Arguments of call 1. fetch_url", Exact = true })).ToContainTextAsync(other);
        await call.GetByText("Result (", new() { Exact = false }).ClickAsync();
        await Expect(call.GetByRole(AriaRole.Region, new() { Name = "Result of call 1. fetch_url", Exact = true })).ToContainTextAsync("Team plan: ask us.");
        Assert.Multiple(() =>
        {
            Assert.That(pages.Requests.Count(r => r.Path == "/edit/other"), Is.EqualTo(1), "the call is made with the edited arguments");
            Assert.That(pages.Requests.Where(r => r.Path == "/edit/pricing"), Is.Empty, "and not with the ones first asked for");
        });
        AssertNoPageProblems(tab, allowing: "422");
    }

    [Test]
    public async Task ToolCall_Refused_AReasonIsAskedFor_ThenTheCallIsNotMadeAndTheReasonShowsWithIt()
    {
        const string reason = "Do not read competitors' pages from our office network.";
        var (client, tab, _) = await OpenRunWaitingOnACallAsync("refuse/pricing", 390, 844);
        using var __ = client;
        await using var ___ = tab;
        var page = tab.Page;
        var form = Form(page);
        var refuse = form.GetByRole(AriaRole.Button, new() { Name = "Refuse", Exact = true });

        await refuse.ClickAsync();
        await Expect(form.Locator("form .field-errors")).ToContainTextAsync("Say why the call should not be made");
        await form.GetByLabel("Reason for refusing", new() { Exact = true }).FillAsync(reason);
        await refuse.ClickAsync();

        await ExpectRunStatusAsync(page, "completed");
        await Node(page, "T1").ClickAsync();
        var call = Calls(page).First;
        await Expect(call).ToHaveAttributeAsync("data-state", "rejected");
        await Expect(call.Locator(".badge")).ToHaveTextAsync("refused");
        await Expect(call.Locator(".tool-feedback")).ToHaveTextAsync("Refused because: " + reason);
        await Expect(page.Locator(".timeline")).ToContainTextAsync("T1: the fetch_url call was refused");
        await AssertNoSidewaysScrollAsync(page, "a refused tool call, phone");
        Assert.That(await AxeAsync(page, "a refused tool call, at 390"), Is.Empty, "axe-core found accessibility problems");
        Assert.That(pages.Requests.Where(r => r.Path == "/refuse/pricing"), Is.Empty, "a refused call is not made");
        AssertNoPageProblems(tab);
    }
}
