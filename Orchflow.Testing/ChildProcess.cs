using System.Collections.Concurrent;
using System.Diagnostics;

namespace Orchflow.Testing;

/// <summary>A process the tests start, whose output is kept for diagnostics and which is always killed on dispose.</summary>
public sealed class ChildProcess : IDisposable
{
    readonly Process process;
    readonly ConcurrentQueue<string> output = new();
    readonly ConcurrentQueue<string> standardOutput = new();

    ChildProcess(Process process) => this.process = process;

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output => string.Join('\n', output);

    /// <summary>What the process wrote to stdout alone: a tool's answer, without what it logs on stderr meanwhile.</summary>
    public string StandardOutput => string.Join('\n', standardOutput);

    /// <summary>
    /// Polls <paramref name="health"/> until it answers with success; fails with the process's output when the
    /// process exits first or the time runs out.
    /// </summary>
    public async Task WaitUntilHealthyAsync(Uri health, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (HasExited)
            {
                throw new InvalidOperationException($"{process.StartInfo.FileName} exited during start-up:\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(health, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Listening but not answering yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{health} did not answer within {timeout.TotalSeconds:0} s:\n{Output}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepoPaths.Root,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            child.Append(e.Data);
            if (e.Data is not null)
            {
                child.standardOutput.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    void Append(string? line)
    {
        if (line is not null)
        {
            output.Enqueue(line);
        }
    }

    /// <summary>
    /// Asks the process to stop (SIGTERM), then kills it if it has not stopped within the grace period; true when it
    /// ended by itself with exit code 0.
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan grace)
    {
        if (process.HasExited)
        {
            return process.ExitCode == 0;
        }

        Signal("TERM");
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
            return process.ExitCode == 0;
        }
        catch (OperationCanceledException)
        {
            Kill();
            return false;
        }
    }

    /// <summary>Waits for the process to end by itself and returns its exit code; past <paramref name="timeout"/> it is killed and this throws.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"{process.StartInfo.FileName} did not end within {timeout.TotalSeconds:0} s:\n{Output}");
        }
    }

    public void Kill()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }

    void Signal(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, process.Id.ToString()]) { UseShellExecute = false });
        kill?.WaitForExit(5_000);
    }

    public void Dispose()
    {
        Kill();
        process.Dispose();
    }
}
