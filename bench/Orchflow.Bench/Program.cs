using System.Runtime.InteropServices;

namespace Orchflow.Bench;

/// <summary>
/// Measures Orchflow on the standalone host against the bare Durable Task engine on the same backend, prints the
/// figures as a Markdown table, and (for a full run) rewrites the generated section of BENCHMARKS.md.
/// </summary>
public static class BenchProgram
{
    public static async Task<int> Main(string[] args)
    {
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            if (e.Message.Length > 0)
            {
                Console.Error.WriteLine(e.Message);
            }

            Console.Error.WriteLine(BenchOptions.Usage);
            return 2;
        }

        // Ctrl-C and SIGTERM cancel the run; the finally blocks below it then stop the host and Azurite.
        using var stop = new CancellationTokenSource();
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);

        var command = "scripts/bench.sh" + (args.Length > 0 ? " " + string.Join(' ', args) : "");
        var run = new BenchRun(options, Console.Error);
        // An exception no caller can catch (thrown on a thread-pool callback) ends the process without running finally blocks.
        AppDomain.CurrentDomain.UnhandledException += (_, _) => run.StopNow();
        try
        {
            var results = await run.RunAsync(stop.Token);
            var markdown = Report.Markdown(results, options, command);
            Console.WriteLine();
            Console.WriteLine(markdown);
            if (options.MarkdownFile is { } file)
            {
                Report.Rewrite(file, markdown);
                Console.Error.WriteLine($"bench: wrote the generated section of {file}");
            }

            if (options.ResultsFile is { } json)
            {
                ResultsJson.Write(json, results);
                Console.Error.WriteLine($"bench: wrote {json}");
            }

            if (options.UpdateResultsFile is { } update)
            {
                ResultsJson.Update(update, results, options.Only);
                Console.Error.WriteLine($"bench: wrote the figures of {string.Join(", ", options.Only)} into {update}");
            }

            Console.Error.WriteLine($"bench: finished in {results.Duration.TotalSeconds:0} s");
            if (results.Load is { Clean: false } load)
            {
                // The figures are printed (and written) so the failure can be read; the exit code makes test.sh and CI see it.
                Console.Error.WriteLine($"bench: THE LOAD FAILED: {load.ErrorCount} errors other than 429, {load.Lost.Count} runs lost, " +
                                        $"{load.Unknown} unknown runs, {load.AnomalyCount} anomalies (each must be 0)");
                return 1;
            }

            return 0;
        }
        catch (Exception e) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine($"bench: interrupted ({e.GetType().Name}); the host and Azurite were stopped");
            return 130;
        }

        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }
}
