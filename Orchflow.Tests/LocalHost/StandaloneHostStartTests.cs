using System.Diagnostics;
using Orchflow.Tests.Support;

namespace Orchflow.Tests.LocalHost;

/// <summary>The standalone host, started as a process with bad settings: it stops at once, naming every one of them.</summary>
[TestFixture]
public sealed class StandaloneHostStartTests
{
    [Test]
    public async Task Start_BadDurableAndEngineSettings_ExitsNamingEverySetting()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { RepoPaths.LocalHostDll, "--urls", "http://127.0.0.1:0" },
            WorkingDirectory = Path.GetDirectoryName(RepoPaths.LocalHostDll),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["Orchflow__Storage__ConnectionString"] = "UseDevelopmentStorage=true";
        start.Environment["Orchflow__Durable__TaskHub"] = "1hub";
        start.Environment["Orchflow__Durable__PartitionCount"] = "0";
        start.Environment["Orchflow__Durable__LeaseIntervalSeconds"] = "3";
        start.Environment["Orchflow__Engine__MaxParallelTasks"] = "51";

        using var host = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = Task.WhenAll(host.StandardOutput.ReadToEndAsync(timeout.Token), host.StandardError.ReadToEndAsync(timeout.Token));
        try
        {
            await host.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!host.HasExited)
            {
                host.Kill(entireProcessTree: true);
            }
        }

        var printed = string.Join('\n', await output);
        Assert.Multiple(() =>
        {
            Assert.That(host.ExitCode, Is.Not.Zero);
            Assert.That(printed, Does.Contain("Orchflow:Durable:TaskHub must be 3 to 45 letters and digits, beginning with a letter, not '1hub'."));
            Assert.That(printed, Does.Contain("Orchflow:Durable:PartitionCount must be from 1 to 16, not 0."));
            Assert.That(printed, Does.Contain("Orchflow:Durable:LeaseIntervalSeconds must be at least twice Orchflow:Durable:LeaseAcquireIntervalSeconds"));
            Assert.That(printed, Does.Contain("Orchflow:Engine:MaxParallelTasks must be from 1 to 50, not 51."));
        });
    }
}
