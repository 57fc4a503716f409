using Microsoft.Playwright;

namespace Orchflow.Tests.Integration.Console;

/// <summary>The console on a host that gives no trial runs: starting a run says where to add a provider, and that screen says why.</summary>
[TestFixture]
public sealed class ConsoleTrialUsedUpTests : ConsoleTests
{
    protected override IReadOnlyDictionary<string, string>? HostSettings => new Dictionary<string, string>
    {
        ["Orchflow__Simulated__LatencyMs"] = "150",
        ["Orchflow__TrialRuns"] = "0",
    };

    [Test]
    public async Task NewRun_NoTrialRunsLeft_LinksToTheProvidersScreenWhichSaysNoneAreLeft()
    {
        using var client = await RegisterAsync();
        await using var tab = await OpenConnectedAsync(client.ApiKey!);
        var page = tab.Page;
        await page.GetByRole(AriaRole.Link, new() { Name = "New run", Exact = true }).First.ClickAsync();
        await page.GetByLabel("Task", new() { Exact = true }).FillAsync("Research competitors and draft a launch strategy.");

        await page.GetByRole(AriaRole.Button, new() { Name = "Start run", Exact = true }).ClickAsync();

        var summary = page.Locator(".form-errors");
        await Expect(summary).ToContainTextAsync("trial runs are used up");
        await summary.GetByRole(AriaRole.Link, new() { Name = "Providers", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Providers", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.Locator(".trial")).ToContainTextAsync("No managed trial runs left");
        AssertNoPageProblems(tab, allowing: "402");
    }
}
