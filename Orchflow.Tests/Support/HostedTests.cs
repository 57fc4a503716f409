namespace Orchflow.Tests.Support;

/// <summary>
/// A fixture with its own standalone host on the shared Azurite, started once for the fixture and always stopped.
/// Tests register a fresh account each, so they never see each other's runs.
/// </summary>
[NonParallelizable]
public abstract class HostedTests
{
    protected OrchflowHost Host { get; private set; } = null!;

    /// <summary>Host settings (environment variables) this fixture needs beyond the test defaults.</summary>
    protected virtual IReadOnlyDictionary<string, string>? HostSettings => null;

    /// <summary>A client with no API key, for the public routes and for 401s.</summary>
    protected OrchflowClient Anonymous { get; private set; } = null!;

    /// <summary>Runs before the host starts: for what its settings point at, like a model server.</summary>
    protected virtual Task BeforeHostStartsAsync() => Task.CompletedTask;

    [OneTimeSetUp]
    public async Task StartHostAsync()
    {
        await BeforeHostStartsAsync();
        Host = await OrchflowHost.StartAsync(TestEnvironment.Azurite.ConnectionString, HostSettings);
        Anonymous = new OrchflowClient(Host.BaseAddress);
    }

    [OneTimeTearDown]
    public async Task StopHostAsync()
    {
        Anonymous?.Dispose();
        if (Host is not null)
        {
            if (TestContext.CurrentContext.Result.FailCount > 0)
            {
                await TestContext.Out.WriteLineAsync("Host output:\n" + Host.Output);
            }

            await Host.DisposeAsync();
        }
    }

    protected Task<OrchflowClient> RegisterAsync() => OrchflowClient.RegisterAsync(Host.BaseAddress);
}
