using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Orchflow.Tests.Deployment;

/// <summary>
/// The Bicep CLI pinned by infra/tools/bicep.csproj (restored from NuGet on first use, like scripts/bicep.sh does),
/// used to compile the templates the tests read. <c>ORCHFLOW_BICEP</c> points at another CLI where that package does not run.
/// </summary>
public static partial class BicepCli
{
    const string Package = "Azure.Bicep.CommandLine.linux-x64";

    static string ProjectPath => Path.Combine(RepoPaths.Root, "infra", "tools", "bicep.csproj");

    /// <summary>Compiles a Bicep file to an ARM template and returns it; fails the test on any error or warning.</summary>
    public static JsonObject Build(string bicepFile)
    {
        var output = Path.Combine(Path.GetTempPath(), $"orchflow-bicep-{Guid.NewGuid():N}");
        Directory.CreateDirectory(output);
        try
        {
            var outFile = Path.Combine(output, Path.ChangeExtension(Path.GetFileName(bicepFile), ".json"));
            var (exitCode, text) = Run(Locate(), ["build", bicepFile, "--outfile", outFile]);
            Assert.That(exitCode, Is.Zero, $"bicep build {bicepFile} failed:\n{text}");
            Assert.That(Diagnostic().IsMatch(text), Is.False, $"bicep build {bicepFile} reported problems:\n{text}");
            return JsonNode.Parse(File.ReadAllText(outFile))!.AsObject();
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    static string Locate()
    {
        if (Environment.GetEnvironmentVariable("ORCHFLOW_BICEP") is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        var version = PinnedVersion().Match(File.ReadAllText(ProjectPath)) is { Success: true } match
            ? match.Groups[1].Value
            : throw new InvalidOperationException($"{ProjectPath} does not pin a version of {Package}.");
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } custom
            ? custom
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var cli = Path.Combine(packages, Package.ToLowerInvariant(), version, "tools", "bicep");
        if (!File.Exists(cli))
        {
            var (exitCode, text) = Run("dotnet", ["restore", ProjectPath, "-nologo"]);
            Assert.That(exitCode, Is.Zero, $"restoring the Bicep CLI failed:\n{text}");
        }

        Assert.That(File.Exists(cli), Is.True, $"the Bicep CLI is missing at {cli} after restoring {ProjectPath}");
        return cli;
    }

    static (int ExitCode, string Output) Run(string fileName, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{fileName} {string.Join(' ', info.ArgumentList)} did not finish within 2 minutes.");
        }

        return (process.ExitCode, stdout + stderr.Result);
    }

    [GeneratedRegex("""PackageDownload\s+Include="Azure\.Bicep\.CommandLine\.linux-x64"\s+Version="\[([^\]]+)\]""")]
    private static partial Regex PinnedVersion();

    /// <summary>A compiler or linter finding at warning or error level, as the CLI prints it.</summary>
    [GeneratedRegex(@" : (Error|Warning) ")]
    private static partial Regex Diagnostic();
}
