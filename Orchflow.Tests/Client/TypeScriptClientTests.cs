using System.Diagnostics;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.Client;

/// <summary>
/// The TypeScript client (clients/typescript) through its own tests with node's test runner, against the standalone
/// host: the seed flow, the approval flow, a stream cut and resumed, errors and idempotency. scripts/test.sh builds
/// it (npm ci, types generated from the OpenAPI document, tsc) before the suite runs.
/// </summary>
[TestFixture]
public sealed class TypeScriptClientTests : HostedTests
{
    static string Client => Path.Combine(RepoPaths.Root, "clients", "typescript");

    [Test]
    public async Task NodeTests_AgainstTheStandaloneHost_AllPass()
    {
        var tests = Path.Combine(Client, "dist", "test");
        Assert.That(Directory.Exists(tests), Is.True, $"{tests} is missing: build the client first (cd clients/typescript && npm ci && npm run build; scripts/test.sh does)");

        var start = new ProcessStartInfo("node", ["--test", "--test-reporter=tap", "dist/test/"])
        {
            WorkingDirectory = Client,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["ORCHFLOW_BASE_URL"] = Host.BaseAddress.AbsoluteUri },
        };
        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            throw new TimeoutException("node --test did not finish in 8 minutes:\n" + await output);
        }

        var report = await output + await errors;
        Assert.Multiple(() =>
        {
            Assert.That(node.ExitCode, Is.EqualTo(0), report);
            Assert.That(report, Does.Contain("# pass 6"), report);
            Assert.That(report, Does.Contain("# fail 0"), report);
        });
    }
}
