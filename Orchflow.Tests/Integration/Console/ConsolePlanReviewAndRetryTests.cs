using Microsoft.Playwright;
using Orchflow.Tests.Integration.Api;

namespace Orchflow.Tests.Integration.Console;

/// <summary>
/// Reviewing a plan and retrying a run from the console, built to docs/api.md's contract ("Plans given, plans reviewed", "Recovery") for
/// <c>POST /runs/{id}/plan/review</c> (<c>require_plan_approval</c>) and <c>POST /runs/{id}/retry</c>. Kept apart
/// from the other console tests: they pass once the server serves those two routes.
/// </summary>
[TestFixture]
[Category("PlanReviewAndRetry")]
public sealed class ConsolePlanReviewAndRetryTests : ConsoleTests
{
    [Test]
    public async Task PlanReview_ApprovedFromThePage_TheRunStartsAndCompletes()
    {
        using var client = await RegisterAsync();
        await using var tab = await OpenConnectedAsync(client.ApiKey!);
        var page = tab.Page;

        await StartWithPlanApprovalAsync(page, RunScenarios.Goal);

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "The plan waits for your review" })).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await ExpectRunStatusAsync(page, "waiting_human");
        await Expect(page.Locator("svg.dag [data-task-id]")).Not.ToHaveCountAsync(0);
        await Expect(page.Locator("svg.dag [data-task-id]:not([data-state=\"pending\"])")).ToHaveCountAsync(0);
        await AssertEveryControlLabelledAsync(page, "plan review");
        await tab.ScreenshotAsync("plan-review-desktop");

        await page.GetByRole(AriaRole.Button, new() { Name = "Approve plan", Exact = true }).ClickAsync();

        await ExpectRunStatusAsync(page, "completed");
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Final output" })).Not.ToBeEmptyAsync();
        await Expect(page.Locator(".timeline [data-type=\"plan.reviewed\"]")).ToHaveCountAsync(1);
        AssertNoPageProblems(tab);
    }

    [Test]
    public async Task PlanReview_SentBackWithFeedback_PlannedAgainAndWaitsForReview()
    {
        using var client = await RegisterAsync();
        await using var tab = await OpenConnectedAsync(client.ApiKey!);
        var page = tab.Page;
        var runId = await StartWithPlanApprovalAsync(page, RunScenarios.Goal);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "The plan waits for your review" })).ToBeVisibleAsync(new() { Timeout = 30_000 });

        await page.GetByLabel("Feedback on the plan", new() { Exact = true }).FillAsync("Add a step that checks the prices against our costs.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Ask for a new plan", Exact = true }).ClickAsync();

        await Expect(page.Locator(".timeline [data-type=\"plan.reviewed\"]")).ToHaveCountAsync(1, new() { Timeout = 30_000 });
        await Expect(page.Locator(".timeline [data-type=\"plan.waiting_review\"]")).ToHaveCountAsync(2, new() { Timeout = 30_000 });
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Approve plan", Exact = true })).ToBeEnabledAsync();
        var events = await client.EventsAsync(runId);
        Assert.That(events.Count(e => e.Str("type") == "run.planned"), Is.EqualTo(2), "planned again");
        AssertNoPageProblems(tab);
    }

    [Test]
    public async Task Retry_CancelledRun_ContinuesFromThePageAndCompletes()
    {
        using var client = await RegisterAsync();
        var (runId, _) = await RunScenarios.StartWaitingRunAsync(client);
        Assert.That((await client.SendAsync(HttpMethod.Delete, $"runs/{runId}")).Status, Is.EqualTo(System.Net.HttpStatusCode.OK));
        await using var tab = await OpenConnectedAsync(client.ApiKey!);
        var page = tab.Page;
        await page.GotoAsync($"{ConsoleUrl}#/runs/{runId}");
        await ExpectRunStatusAsync(page, "cancelled");

        await page.GetByRole(AriaRole.Button, new() { Name = "Retry run", Exact = true }).ClickAsync();

        // The human task waits again; completed research keeps its output.
        var refused = page.Locator(".run-actions .form-status", new() { HasText = "Not retried" });
        await Expect(NodeIn(page, "T1", "waiting_human").Or(refused)).ToBeVisibleAsync(new() { Timeout = 30_000 });
        Assert.That(await refused.CountAsync(), Is.Zero, $"the page says: {(await refused.CountAsync() > 0 ? await refused.TextContentAsync() : "")}");
        await Expect(page.Locator(".timeline [data-type=\"run.retried\"]")).ToHaveCountAsync(1);
        await page.GetByLabel("Answer", new() { Exact = true }).FillAsync("Company: a workflow API for AI apps. Voice: direct.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit answer", Exact = true }).ClickAsync();
        await ExpectRunStatusAsync(page, "completed");
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Final output" })).ToContainTextAsync("workflow API");
        AssertNoPageProblems(tab);
    }

    static async Task<string> StartWithPlanApprovalAsync(IPage page, string task)
    {
        await page.GetByRole(AriaRole.Link, new() { Name = "New run", Exact = true }).First.ClickAsync();
        await page.GetByLabel("Task", new() { Exact = true }).FillAsync(task);
        await page.GetByLabel("Require plan approval", new() { Exact = true }).CheckAsync();
        return await SubmitRunFormAsync(page);
    }
}
