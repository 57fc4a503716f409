using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Console;

/// <summary>
/// One Chromium for every console fixture: launched by the first fixture that needs it, closed once the console's
/// fixtures are all done, so the fixtures after the first start no browser of their own.
/// </summary>
[SetUpFixture]
public sealed class ConsoleBrowserSetup
{
    static ConsoleBrowser? browser;

    public static async Task<ConsoleBrowser> BrowserAsync() => browser ??= await ConsoleBrowser.LaunchAsync();

    [OneTimeTearDown]
    public async Task CloseBrowserAsync()
    {
        if (browser is not null)
        {
            await browser.DisposeAsync();
            browser = null;
        }
    }
}
