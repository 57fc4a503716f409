using Orchflow.Tests.Support;

namespace Orchflow.Tests;

/// <summary>One Azurite for the whole test run, started first and always stopped last.</summary>
[SetUpFixture]
public sealed class TestEnvironment
{
    static Azurite? azurite;

    public static Azurite Azurite => azurite ?? throw new InvalidOperationException("Azurite is not running.");

    [OneTimeSetUp]
    public async Task StartAsync() => azurite = await Azurite.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (azurite is not null)
        {
            await azurite.DisposeAsync();
            azurite = null;
        }
    }
}
