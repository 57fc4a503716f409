using System.Reflection;

namespace Orchflow.Tests.Support;

/// <summary>
/// A fixture with a standalone host on the shared Azurite, taken from the <see cref="HostPool"/> for the fixture and
/// always given back: fixtures with equal settings that run one after another share one. Tests register a fresh
/// account each, so they never see each other's runs, and a host serves one fixture at a time: two hosted fixtures run
/// at once, each on its own host (their tests mostly wait on the host, so two share the machine's cores well).
/// </summary>
[Parallelizable(ParallelScope.Self)]
public abstract class HostedTests
{
    /// <summary>How many fixtures run at once (the assembly's level of parallelism).</summary>
    public const int AtOnce = 2;

    HostLease? lease;
    int outputBefore;

    protected OrchflowHost Host => lease?.Host ?? throw new InvalidOperationException("The fixture's host has not started.");

    /// <summary>Host settings (environment variables) this fixture needs beyond the test defaults.</summary>
    protected virtual IReadOnlyDictionary<string, string>? HostSettings => null;

    /// <summary>A client with no API key, for the public routes and for 401s.</summary>
    protected OrchflowClient Anonymous { get; private set; } = null!;

    /// <summary>
    /// Runs before the host starts: for what its settings point at, like a model server. A fixture that starts servers
    /// of its own gets a host of its own, ended with the fixture: no other fixture's settings point at its servers.
    /// </summary>
    protected virtual Task BeforeHostStartsAsync() => Task.CompletedTask;

    /// <summary>
    /// Whether each test waits, when it ends, until the host is at rest: for fixtures whose tests change how their model
    /// server answers, so that a run one test left going (a test that failed half-way) never meets the next test's model.
    /// </summary>
    protected virtual bool EachTestEndsAtRest => false;

    bool StartsOwnServers =>
        GetType().GetMethod(nameof(BeforeHostStartsAsync), BindingFlags.Instance | BindingFlags.NonPublic)!.DeclaringType != typeof(HostedTests);

    [OneTimeSetUp]
    public async Task StartHostAsync()
    {
        await BeforeHostStartsAsync();
        lease = await HostPool.TakeAsync(HostSettings);
        outputBefore = Host.Output.Length;
        Anonymous = new OrchflowClient(Host.BaseAddress);
    }

    [TearDown]
    public async Task LetTheHostComeToRestAsync()
    {
        if (EachTestEndsAtRest && lease is not null)
        {
            await TestHosts.WaitUntilAtRestAsync(Host);
        }
    }

    [OneTimeTearDown]
    public async Task StopHostAsync()
    {
        Anonymous?.Dispose();
        if (lease is not null)
        {
            if (TestContext.CurrentContext.Result.FailCount > 0)
            {
                var output = Host.Output;
                await TestContext.Out.WriteLineAsync("Host output while this fixture ran:\n" + output[Math.Min(outputBefore, output.Length)..]);
            }

            await HostPool.GiveBackAsync(lease, keep: !StartsOwnServers);
            lease = null;
        }
    }

    protected Task<OrchflowClient> RegisterAsync() => OrchflowClient.RegisterAsync(Host.BaseAddress);
}
