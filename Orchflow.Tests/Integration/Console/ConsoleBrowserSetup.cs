using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Console;

/// <summary>
/// One Chromium for every console fixture: launched by the first fixture that needs it, closed once the console's
/// fixtures are all done, so the fixtures after the first start no browser of their own.
/// </summary>
[SetUpFixture]
public sealed class ConsoleBrowserSetup
{
    /// <summary>
    /// Fixtures that open a page (the console's, <see cref="CorsBrowserTests"/>) may run two at a time: launching and
    /// closing the one Chromium is guarded, so two never launch one each.
    /// </summary>
    static readonly SemaphoreSlim Gate = new(1, 1);
    static ConsoleBrowser? browser;

    public static async Task<ConsoleBrowser> BrowserAsync()
    {
        await Gate.WaitAsync();
        try
        {
            return browser ??= await ConsoleBrowser.LaunchAsync();
        }
        finally
        {
            Gate.Release();
        }
    }

    [OneTimeTearDown]
    public async Task CloseBrowserAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (browser is not null)
            {
                await browser.DisposeAsync();
                browser = null;
            }
        }
        finally
        {
            Gate.Release();
        }
    }
}
