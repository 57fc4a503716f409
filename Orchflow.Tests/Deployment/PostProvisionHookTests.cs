using System.Diagnostics;

namespace Orchflow.Tests.Deployment;

/// <summary>
/// infra/hooks/postprovision.sh and its Windows twin postprovision.ps1, run as azd runs them, with an Azure CLI on the
/// PATH that records its calls: every call names azd's subscription (the CLI's default may be another), the pepper is
/// created once and only when missing, its value never on a command line, and the app restarted to read it.
/// </summary>
[TestFixture]
public sealed class PostProvisionHookTests
{
    const string Subscription = "00000000-0000-0000-0000-0000000000aa";

    /// <summary>An <c>az</c> that logs each call's arguments, answers <c>secret show</c> as the vault would, and logs the length of the pepper file it is given.</summary>
    const string FakeAz = """
        #!/bin/sh
        printf '%s\n' "$*" >> "$FAKE_AZ_LOG"
        case "$1 $2 $3" in
            "keyvault secret show")
                if [ -n "${FAKE_AZ_SECRET_EXISTS:-}" ]; then echo "https://vault/secrets/api-key-pepper/1"; exit 0; fi
                echo "ERROR: (SecretNotFound) A secret with (name/id) api-key-pepper was not found in this key vault." >&2
                exit 1 ;;
            "keyvault secret set")
                while [ $# -gt 0 ]; do
                    if [ "$1" = "--file" ]; then printf 'pepper %s\n' "$(cat "$2")" >> "$FAKE_AZ_LOG.pepper"; fi
                    shift
                done ;;
        esac
        exit 0
        """;

    string directory = null!;

    public static IEnumerable<string> Hooks => ["postprovision.sh", "postprovision.ps1"];

    [SetUp]
    public void CreateFakeCli()
    {
        directory = Path.Combine(Path.GetTempPath(), $"orchflow-hook-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var az = Path.Combine(directory, "az");
        File.WriteAllText(az, FakeAz.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        // The fake is a POSIX shell script, like the hook azd runs outside Windows.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(az, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [TearDown]
    public void RemoveFakeCli() => Directory.Delete(directory, recursive: true);

    [TestCaseSource(nameof(Hooks))]
    public void Hook_PepperMissing_CreatesItAndRestartsTheApp_AllInAzdsSubscription(string hook)
    {
        var (exitCode, output) = Run(hook, Environment());

        var calls = Calls();
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero, output);
            Assert.That(calls.Select(c => string.Join(' ', c.Split(' ').Take(3))), Is.EqualTo(new[]
            {
                "keyvault secret show", "keyvault secret set", "functionapp restart --subscription",
            }));
            Assert.That(calls, Has.All.Contain($"--subscription {Subscription}"), "the CLI's default subscription is never used");
            Assert.That(calls[2], Does.Contain("--resource-group rg-test --name func-test"));
            var pepper = File.ReadAllText(Path.Combine(directory, "az.log.pepper")).Trim()["pepper ".Length..];
            Assert.That(Convert.FromBase64String(pepper), Has.Length.EqualTo(32), "32 random bytes, base64");
            Assert.That(calls, Has.None.Contain(pepper), "the value never appears on a command line");
        });
    }

    [TestCaseSource(nameof(Hooks))]
    public void Hook_PepperExists_KeepsItAndRestartsNothing(string hook)
    {
        var environment = Environment();
        environment["FAKE_AZ_SECRET_EXISTS"] = "1";

        var (exitCode, output) = Run(hook, environment);

        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero, output);
            Assert.That(output, Does.Contain("api-key-pepper already exists"));
            Assert.That(Calls(), Is.EqualTo(new[]
            {
                $"keyvault secret show --subscription {Subscription} --vault-name kv-test --name api-key-pepper --query id --output tsv",
            }));
        });
    }

    [TestCaseSource(nameof(Hooks))]
    public void Hook_WithoutAzdsSubscription_FailsSayingSoBeforeCallingAzure(string hook)
    {
        var environment = Environment();
        environment.Remove("AZURE_SUBSCRIPTION_ID");

        var (exitCode, output) = Run(hook, environment);

        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Not.Zero);
            Assert.That(output, Does.Contain("AZURE_SUBSCRIPTION_ID is not set"));
            Assert.That(File.Exists(Path.Combine(directory, "az.log")), Is.False, "no az call");
        });
    }

    [Test]
    public void AzureYaml_RunsTheShellHookOnPosixAndThePowerShellHookOnWindows()
    {
        var yaml = File.ReadAllText(Path.Combine(RepoPaths.Root, "azure.yaml")).Replace("\r\n", "\n", StringComparison.Ordinal);

        Assert.Multiple(() =>
        {
            Assert.That(yaml, Does.Contain("    posix:\n      shell: sh\n      run: ./infra/hooks/postprovision.sh\n"));
            Assert.That(yaml, Does.Contain("    windows:\n      shell: pwsh\n      run: ./infra/hooks/postprovision.ps1\n"));
        });
    }

    /// <summary>What azd gives the hook: its environment's subscription and the deployment's outputs.</summary>
    Dictionary<string, string> Environment() => new()
    {
        ["AZURE_SUBSCRIPTION_ID"] = Subscription,
        ["AZURE_KEY_VAULT_NAME"] = "kv-test",
        ["AZURE_FUNCTION_APP_NAME"] = "func-test",
        ["AZURE_RESOURCE_GROUP"] = "rg-test",
        ["FAKE_AZ_LOG"] = Path.Combine(directory, "az.log"),
    };

    List<string> Calls()
    {
        var log = Path.Combine(directory, "az.log");
        return File.Exists(log) ? File.ReadAllLines(log).ToList() : [];
    }

    (int ExitCode, string Output) Run(string hook, Dictionary<string, string> environment)
    {
        var script = Path.Combine(RepoPaths.Root, "infra", "hooks", hook);
        var info = hook.EndsWith(".ps1", StringComparison.Ordinal)
            ? new ProcessStartInfo(PowerShell()) { ArgumentList = { "-NoProfile", "-NonInteractive", "-File", script } }
            : new ProcessStartInfo("sh") { ArgumentList = { script } };
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.WorkingDirectory = RepoPaths.Root;
        foreach (var name in new[] { "AZURE_SUBSCRIPTION_ID", "AZURE_KEY_VAULT_NAME", "AZURE_FUNCTION_APP_NAME", "AZURE_RESOURCE_GROUP" })
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        info.Environment["PATH"] = directory + Path.PathSeparator + System.Environment.GetEnvironmentVariable("PATH");
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{hook} did not finish within 2 minutes.");
        }

        return (process.ExitCode, stdout + stderr.Result);
    }

    /// <summary>ORCHFLOW_PWSH, or the PowerShell tool scripts/test.sh installs into tools/pwsh.</summary>
    static string PowerShell()
    {
        var path = System.Environment.GetEnvironmentVariable("ORCHFLOW_PWSH") is { Length: > 0 } custom
            ? custom
            : Path.Combine(RepoPaths.Root, "tools", "pwsh", "pwsh");
        if (!File.Exists(path))
        {
            Assert.Fail($"POWERSHELL IS NOT INSTALLED: {path} does not exist, so the Windows post-provision hook cannot be tested. " +
                        "scripts/test.sh installs it (dotnet tool install PowerShell --version 7.6.10 --tool-path tools/pwsh); elsewhere set ORCHFLOW_PWSH.");
        }

        return path;
    }
}
