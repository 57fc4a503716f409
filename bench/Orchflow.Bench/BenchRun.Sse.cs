using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Text.Json;

namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    static readonly string[] Boundaries = ["run.waiting_human", "run.completed", "run.failed", "run.cancelled"];

    /// <summary>
    /// Many clients on one run's live stream, then one client on a run driven the same way, on a host whose storage is
    /// the metered Azurite. Each run is a plan the bench gives: human task, agent task, human task, … in a chain, so
    /// every answer moves the run through the same states (the answer's <c>task.completed</c> written by the request,
    /// the agent task's start and end and the next human task's wait written by the engine), the agent tasks'
    /// simulated model spacing the events apart.
    /// </summary>
    async Task SsePhaseAsync(OrchflowHost host, OrchflowApi api, MeteredAzurite storage, CancellationToken cancellationToken)
    {
        var key = await api.RegisterAsync(cancellationToken);
        var many = await SseRunAsync(host, api, storage, key, options.SseSubscribers, cancellationToken);
        var one = await SseRunAsync(host, api, storage, key, 1, cancellationToken);
        results.Sse = new SseResult(options.SseModelLatencyMs, options.SseGap, options.SseHumanSteps, many, one);
    }

    /// <summary>
    /// Starts the chain, waits until it waits on its first human, connects the subscribers and waits until each has
    /// replayed the log so far; watches a while with nothing changing; then answers each human task once every
    /// subscriber has seen the run wait on it (and a short gap has passed), until the run completes and the host closes
    /// the streams. Latency is each event's <c>created_at</c>, the host's clock when it wrote the change, to the moment
    /// the client's parser handed it over, the same machine's clock.
    /// </summary>
    async Task<SseRunResult> SseRunAsync(OrchflowHost host, OrchflowApi api, MeteredAzurite storage, string key, int subscribers, CancellationToken cancellationToken)
    {
        var plan = new List<object>();
        for (var step = 0; step < options.SseHumanSteps; step++)
        {
            string human = $"T{2 * step + 1}", agent = $"T{2 * step + 2}";
            plan.Add(new
            {
                task_id = human, name = $"Answer question {step + 1}", kind = "human",
                depends_on = step == 0 ? Array.Empty<string>() : [$"T{2 * step}"], prompt = "What should the next step know?",
            });
            plan.Add(new { task_id = agent, name = $"Draft part {step + 1}", kind = "agent", agent = "writer", depends_on = new[] { human } });
        }

        var run = await api.StartPlannedRunAsync(key, "Write a short launch note in parts, asking before each part.", plan, cancellationToken);
        await api.WaitAsync(key, run.RunId, r => r.Status == "waiting_human", TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(60), cancellationToken);

        var runTasks = host.TablePrefix + "RunTasks";
        // Pages of the log (queries) and probes for its next event (point reads), both.
        var logReads = storage.Count(r => r.IsTableRead && r.Table == runTasks &&
                                          (r.Query.Contains($"PartitionKey eq '{run.RunId}'") && r.Query.Contains("~~log~") ||
                                           r.Resource.Contains($"'{run.RunId}'") && r.Resource.Contains("~~log~")));
        var statusReads = storage.Count(r => r.IsTableRead && r.Table == runTasks && r.Resource.Contains($"'{run.RunId}'") &&
                                             r.Resource.Contains("'~status'"));
        try
        {
            Say($"sse: {subscribers} subscriber(s) on run {run.RunId}");
            using var streams = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            streams.CancelAfter(TimeSpan.FromMinutes(3));
            var clients = Enumerable.Range(0, subscribers).Select(_ => new SseClient()).ToArray();
            var connecting = Stopwatch.StartNew();
            var reading = clients.Select(c => Task.Run(() => c.ReadAsync(api, key, run.RunId, streams.Token), streams.Token)).ToArray();
            await UntilAsync(() => clients.All(c => c.Boundary is not null), reading, TimeSpan.FromSeconds(60));
            var connect = connecting.Elapsed;

            var idleFrom = Stopwatch.GetTimestamp();
            await Task.Delay(options.SseIdle, cancellationToken);
            var idleTo = Stopwatch.GetTimestamp();

            var start = clients.Min(c => c.LastSequence);
            var activeFrom = Stopwatch.GetTimestamp();
            while (clients[0].Boundary is { } boundary && boundary.Type == "run.waiting_human")
            {
                await api.CompleteTaskAsync(key, run.RunId, boundary.WaitingOn[0], "Keep it short and concrete.", cancellationToken);
                await UntilAsync(() => clients.All(c => c.Boundary!.Sequence > boundary.Sequence), reading, TimeSpan.FromSeconds(60));
                if (clients[0].Boundary!.Type == "run.waiting_human")
                {
                    await Task.Delay(options.SseGap, cancellationToken);
                }
            }

            var activeTo = Stopwatch.GetTimestamp();
            await Task.WhenAll(reading);
            if (clients[0].Boundary?.Type != "run.completed")
            {
                throw new InvalidOperationException($"Run {run.RunId} ended {clients[0].Boundary?.Type} instead of completing.");
            }

            var latency = new Sample();
            foreach (var client in clients)
            {
                latency.AddRange(client.Received.Where(e => e.Sequence > start).Select(e => (e.At - e.CreatedAt).TotalMilliseconds));
            }

            var last = clients[0].LastSequence;
            var whole = clients.Count(c => c.Received.Select(e => e.Sequence).SequenceEqual(Enumerable.Range(1, (int)last).Select(i => (long)i)));
            if (whole != clients.Length)
            {
                throw new InvalidOperationException($"Only {whole} of {clients.Length} subscribers got every event of {run.RunId} once, in order.");
            }

            var active = Stopwatch.GetElapsedTime(activeFrom, activeTo);
            var idle = Stopwatch.GetElapsedTime(idleFrom, idleTo);
            var reads = logReads.Between(activeFrom, activeTo);
            var result = new SseRunResult(subscribers, connect, (int)(last - start), active, latency, reads, reads / active.TotalSeconds,
                idle, logReads.Between(idleFrom, idleTo) / idle.TotalSeconds, statusReads.Total);
            Say($"sse: {subscribers} subscriber(s), {result.Events} events in {active.TotalSeconds:0.0} s: change → event p50 {latency.Median:0} ms " +
                $"p99 {latency.P99:0} ms; log reads {result.LogReadsPerSecond:0.0}/s while changing, {result.IdleLogReadsPerSecond:0.0}/s idle; " +
                $"connected in {connect.TotalSeconds:0.0} s");
            return result;
        }
        finally
        {
            storage.Stop(logReads);
            storage.Stop(statusReads);
        }
    }

    /// <summary>Waits until <paramref name="done"/> holds, looking every few milliseconds; a reader that fails ends the wait with its error.</summary>
    static async Task UntilAsync(Func<bool> done, IReadOnlyList<Task> readers, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (readers.FirstOrDefault(r => r.IsFaulted) is { } failed)
            {
                await failed;
            }

            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"The subscribers did not get there within {limit.TotalSeconds:0} s.");
            }

            await Task.Delay(5);
        }
    }

    /// <summary>One subscriber: every event as its parser handed it over, with the moment it did.</summary>
    sealed class SseClient
    {
        readonly List<ReceivedEvent> received = [];
        BoundaryEvent? boundary;
        long lastSequence;

        public long LastSequence => Interlocked.Read(ref lastSequence);

        /// <summary>The last event that leaves the run waiting on a human or ended.</summary>
        public BoundaryEvent? Boundary => Volatile.Read(ref boundary);

        public IReadOnlyList<ReceivedEvent> Received
        {
            get
            {
                lock (received)
                {
                    return [.. received];
                }
            }
        }

        public async Task ReadAsync(OrchflowApi api, string key, string runId, CancellationToken cancellationToken)
        {
            using var response = await api.OpenEventStreamAsync(key, runId, cancellationToken);
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            // The moment is taken when the parser has the whole event, before its JSON is read.
            var parser = SseParser.Create(stream, (_, data) => (At: DateTimeOffset.UtcNow, Event: JsonSerializer.Deserialize<EventDto>(data, OrchflowApi.Json)!));
            await foreach (var item in parser.EnumerateAsync(cancellationToken))
            {
                if (item.EventType == "task.output.delta")
                {
                    // Live output between the events: this phase times the events' fan-out.
                    continue;
                }

                var (at, e) = item.Data;
                if (item.EventType != e.Type || item.EventId != e.Sequence.ToString())
                {
                    throw new InvalidOperationException($"An SSE item's id {item.EventId} and event {item.EventType} do not match its data ({e.Sequence}, {e.Type}).");
                }

                lock (received)
                {
                    received.Add(new ReceivedEvent(e.Sequence, e.Type, e.CreatedAt, at));
                }

                Interlocked.Exchange(ref lastSequence, e.Sequence);
                if (Boundaries.Contains(e.Type))
                {
                    var waitingOn = e.Data.TryGetProperty("waiting_on", out var w) && w.ValueKind == JsonValueKind.Array
                        ? w.EnumerateArray().Select(x => x.GetString()!).ToList()
                        : [];
                    Volatile.Write(ref boundary, new BoundaryEvent(e.Sequence, e.Type, waitingOn));
                }
            }
        }
    }

    sealed record ReceivedEvent(long Sequence, string Type, DateTimeOffset CreatedAt, DateTimeOffset At);

    sealed record BoundaryEvent(long Sequence, string Type, IReadOnlyList<string> WaitingOn);

    sealed record EventDto(long Sequence, string Type, DateTimeOffset CreatedAt, string? TaskId, JsonElement Data);
}
