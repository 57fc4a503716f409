using Orchflow.Tests.Support;

namespace Orchflow.Tests;

/// <summary>One Azurite for the whole test run, started first and always stopped last, after every host the run left up.</summary>
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
        try
        {
            await HostPool.EndAllAsync();
        }
        finally
        {
            if (azurite is not null)
            {
                await azurite.DisposeAsync();
                azurite = null;
            }
        }
    }
}
