using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Text.Json;

namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    /// <summary>
    /// Live output: a word written by the model → its <c>task.output.delta</c> at an SSE client. The model is the bench's
    /// loopback server streaming one agent task's answer a word at a time, each word stamped as it is written; the clients
    /// stamp each delta as their parser hands it over, on the same clock. First one host (writer and stream in one
    /// process); then a second host on the same tables and task hub, each host's managed model under its own path so the
    /// bench knows which one wrote, and the stream read from both: the host that did not write gives the cross-process figure.
    /// Both run on the metered Azurite, whose log counts what the live texts cost storage in the two-host part.
    /// </summary>
    async Task OutputPhaseAsync(MeteredAzurite storage, CancellationToken cancellationToken)
    {
        await using var model = await FakeChatServer.StartAsync();
        var words = string.Concat(Enumerable.Range(1, options.OutputWords).Select(i => $"word{i} "));
        model.Responder = request => request.TaskId == "T1"
            // Held a moment, so the streams are open before the first word.
            ? FakeReply.Chat(words).StreamedEvery(options.OutputWordInterval).After(TimeSpan.FromMilliseconds(300))
            : FakeReply.Chat("Done.");
        var same = new Sample();
        var cross = new Sample();
        int sameWithCompletion = 0, crossWithCompletion = 0;
        var crossWriters = new Dictionary<string, int>();
        int writes = 0, reads = 0;
        await WithHostAsync(0, async (first, api, token) =>
        {
            var key = await api.RegisterAsync(token);
            Say($"output: {options.OutputRuns} runs streaming {options.OutputWords} words every {options.OutputWordInterval.TotalMilliseconds:0} ms, one host");
            for (var i = 0; i < options.OutputRuns; i++)
            {
                var (_, byHost) = await StreamedRunAsync(model, key, [("a", api)], token);
                same.AddRange(byHost["a"].Latencies);
                sameWithCompletion += byHost["a"].ByCompletion;
            }


            var joined = new Dictionary<string, string>(ManagedModel(model, "b"))
            {
                [OrchflowHost.TablePrefixSetting] = first.TablePrefix,
                [OrchflowHost.TaskHubSetting] = first.TaskHub,
            };
            var liveRows = first.TablePrefix + "RunTasks";
            await WithHostAsync(0, async (_, second, inner) =>
            {
                Say($"output: {options.OutputRuns} runs with a second host on the same task hub, the stream read from both");
                var textWrites = storage.Count(r => r.Method is "PUT" or "MERGE" or "PATCH" && r.Table == liveRows && r.Resource.Contains("~~live~"));
                var textReads = storage.Count(r => r.IsTableRead && r.Table == liveRows && r.Mentions("~~live~"));
                for (var i = 0; i < options.OutputRuns; i++)
                {
                    var (writer, byHost) = await StreamedRunAsync(model, key, [("a", api), ("b", second)], inner);
                    var reader = writer == "a" ? "b" : "a";
                    cross.AddRange(byHost[reader].Latencies);
                    crossWithCompletion += byHost[reader].ByCompletion;
                    crossWriters[writer] = crossWriters.GetValueOrDefault(writer) + 1;
                }

                storage.Stop(textWrites);
                storage.Stop(textReads);
                (writes, reads) = (textWrites.Total, textReads.Total);
            }, token, joined, storage.ConnectionString);
        }, cancellationToken, ManagedModel(model, "a"), storage.ConnectionString);

        results.Output = new OutputResult(options.OutputRuns, options.OutputWords, options.OutputWordInterval, same, cross,
            string.Join(", ", crossWriters.Select(w => $"{w.Value} written on host {w.Key}")), sameWithCompletion, crossWithCompletion)
        {
            TextWritesPerSecond = writes / (options.OutputRuns * options.OutputWords * options.OutputWordInterval.TotalSeconds),
            TextReadsPerSecond = reads / (options.OutputRuns * options.OutputWords * options.OutputWordInterval.TotalSeconds),
        };
        Say($"output: word written → delta at the client, one process p50 {same.Median:0} ms p99 {same.P99:0} ms; " +
            $"the other process p50 {cross.Median:0} ms p99 {cross.P99:0} ms ({results.Output.CrossWriters}); live-text storage requests per " +
            $"second of writing: {results.Output.TextWritesPerSecond:0.0} writes by the writer, {results.Output.TextReadsPerSecond:0.0} reads by the other host");
    }

    /// <summary>
    /// One run of one agent task, its stream read on each host given (by name) from before the task writes until the run
    /// ends; returns the host whose model wrote it (the path its request took) and each reader's latencies.
    /// </summary>
    async Task<(string Writer, Dictionary<string, (List<double> Latencies, int ByCompletion)> ByHost)> StreamedRunAsync(
        FakeChatServer model, string key, (string Name, OrchflowApi Api)[] hosts, CancellationToken cancellationToken)
    {
        var run = await hosts[0].Api.StartRunWithAsync(key, ToolRunBody(new { }), cancellationToken);
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ending.CancelAfter(TimeSpan.FromMinutes(2));
        var readers = hosts.Select(h => (h.Name, Reading: ReadDeltasAsync(h.Api, key, run.RunId, ending.Token))).ToList();
        await hosts[0].Api.WaitAsync(key, run.RunId, r => r.IsCompleted, TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(2), cancellationToken);
        // The host ends each stream once the run has ended.
        await Task.WhenAll(readers.Select(r => r.Reading));

        var write = model.Requests.Last(r => r.TaskId == "T1");
        var writer = write.Path.Split('/', StringSplitOptions.RemoveEmptyEntries)[0];
        var writes = model.StreamWrites.Where(w => ReferenceEquals(w.Request, write)).ToList();
        var byHost = new Dictionary<string, (List<double> Latencies, int ByCompletion)>();
        foreach (var (name, reading) in readers)
        {
            var (connected, deltas, completed) = await reading;
            var timed = writes.Where(w => w.Timestamp > connected).ToList();
            var byCompletion = 0;
            byHost[name] = (timed.Select(w =>
            {
                var end = w.Offset + w.Text.Length;
                // A word written after the last save another instance read arrives with the task's completion, not as a delta.
                var delta = deltas.FirstOrDefault(d => d.Offset <= end && d.Offset + d.Length >= end);
                byCompletion += delta is null ? 1 : 0;
                return (delta?.At ?? completed) is { } at
                    ? Stopwatch.GetElapsedTime(w.Timestamp, at).TotalMilliseconds
                    : throw new InvalidOperationException($"The stream on host {name} carried neither the word at offset {w.Offset} of run {run.RunId} nor T1's completion.");
            }).ToList(), byCompletion);
        }

        return (writer, byHost);
    }

    /// <summary>
    /// T1's deltas on one run's stream, each stamped when its parser handed it over; when the stream was open; and when
    /// T1's <c>task.completed</c> arrived, if it did.
    /// </summary>
    static async Task<(long Connected, List<ReceivedDelta> Deltas, long? Completed)> ReadDeltasAsync(OrchflowApi api, string key, string runId, CancellationToken cancellationToken)
    {
        using var response = await api.OpenEventStreamAsync(key, runId, cancellationToken);
        var connected = Stopwatch.GetTimestamp();
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var deltas = new List<ReceivedDelta>();
        long? completed = null;
        var parser = SseParser.Create(stream, (type, data) => (At: Stopwatch.GetTimestamp(), Data: type is "task.output.delta" or "task.completed" ? data.ToArray() : null));
        await foreach (var item in parser.EnumerateAsync(cancellationToken))
        {
            if (item.Data.Data is not { } data)
            {
                continue;
            }

            if (item.EventType == "task.completed")
            {
                completed ??= JsonSerializer.Deserialize<DeltaDto>(data, OrchflowApi.Json)!.TaskId == "T1" ? item.Data.At : null;
                continue;
            }

            var delta = JsonSerializer.Deserialize<DeltaDto>(data, OrchflowApi.Json)!;
            if (delta.TaskId == "T1")
            {
                deltas.Add(new ReceivedDelta(delta.Offset, delta.Text?.Length ?? 0, item.Data.At));
            }
        }

        return (connected, deltas, completed);
    }

    sealed record ReceivedDelta(int Offset, int Length, long At);

    /// <summary>A delta's data, or (task id only) a logged event's.</summary>
    sealed record DeltaDto(string? TaskId, int Offset, string? Text);
}
