using System.Globalization;
using System.Net;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Orchflow.Client;

// A run's event log as a live stream that outlives its connections.
public sealed partial class OrchflowClient
{
    /// <summary>
    /// A run's events as they happen, each exactly once, from the first (or after <paramref name="after"/>) until the
    /// event that ends the run. A connection that is cut is made again with <c>Last-Event-ID</c>, after the
    /// <c>Retry-After</c> a 429 or 503 asks for; the stream ends when the run has ended and every event was given.
    /// </summary>
    public async IAsyncEnumerable<RunEvent> StreamEventsAsync(string runId, long after = 0,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var last = after;
        var failures = 0;
        while (true)
        {
            using var request = Request(HttpMethod.Get, $"runs/{Segment(runId)}/events?output=false", idempotencyKey: null);
            request.Headers.Accept.ParseAdd("text/event-stream");
            if (last > 0)
            {
                request.Headers.Add("Last-Event-ID", last.ToString(CultureInfo.InvariantCulture));
            }

            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (HttpRequestException) when (failures < options.MaxRetries)
            {
                await Task.Delay(Backoff(failures++), cancellationToken);
                continue;
            }

            using (response)
            {
                if (response.StatusCode == HttpStatusCode.NoContent)
                {
                    yield break; // The run has ended and nothing is after `last`.
                }

                if (!response.IsSuccessStatusCode)
                {
                    var problem = await ProblemAsync(response, cancellationToken);
                    if (failures < options.MaxRetries && Retryable(problem))
                    {
                        await Task.Delay(RetryDelay(response, failures++), cancellationToken);
                        continue;
                    }

                    throw problem;
                }

                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                var items = SseParser.Create(stream, (type, data) => type == "task.output.delta" ? null : Parse(data))
                    .EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
                await using (items)
                {
                    while (true)
                    {
                        bool more;
                        try
                        {
                            more = await items.MoveNextAsync();
                        }
                        catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
                        {
                            break; // Cut: connect again from the last event given.
                        }

                        if (!more)
                        {
                            break;
                        }

                        if (items.Current.Data is not { } runEvent || runEvent.Sequence <= last)
                        {
                            continue;
                        }

                        last = runEvent.Sequence;
                        failures = 0;
                        yield return runEvent;
                        if (runEvent.EndsTheRun)
                        {
                            yield break;
                        }
                    }
                }
            }

            // The stream closed before the run's last event: wait a moment, unless it closes again and again.
            if (failures >= options.MaxRetries)
            {
                throw new IOException($"The event stream of {runId} closed {failures} times without a new event.");
            }

            await Task.Delay(Backoff(failures++), cancellationToken);
        }
    }

    /// <summary>Waits on the event stream until the run is in one of <paramref name="statuses"/>, and returns it then.</summary>
    public async Task<Run> WaitForStatusAsync(string runId, IReadOnlyCollection<string> statuses, CancellationToken cancellationToken = default)
    {
        var run = await GetRunAsync(runId, cancellationToken);
        if (statuses.Contains(run.Status))
        {
            return run;
        }

        await foreach (var runEvent in StreamEventsAsync(runId, cancellationToken: cancellationToken))
        {
            if (runEvent.Type.StartsWith("run.", StringComparison.Ordinal) && statuses.Contains(runEvent.Type[4..]))
            {
                run = await GetRunAsync(runId, cancellationToken);
                if (statuses.Contains(run.Status))
                {
                    return run;
                }
            }
        }

        run = await GetRunAsync(runId, cancellationToken);
        return statuses.Contains(run.Status)
            ? run
            : throw new InvalidOperationException($"Run {runId} ended {run.Status}, not {string.Join(" or ", statuses)}.");
    }

    /// <summary>Waits until the run has ended (completed, failed or cancelled) and returns it.</summary>
    public Task<Run> WaitForEndAsync(string runId, CancellationToken cancellationToken = default) =>
        WaitForStatusAsync(runId, [RunStatus.Completed, RunStatus.Failed, RunStatus.Cancelled], cancellationToken);

    static RunEvent? Parse(ReadOnlySpan<byte> data) => JsonSerializer.Deserialize<RunEvent>(data, OrchflowJson.Options);
}
