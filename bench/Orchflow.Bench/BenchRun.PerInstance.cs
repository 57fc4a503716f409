using Microsoft.DurableTask.Client;

namespace Orchflow.Bench;

public sealed partial class BenchRun
{
    /// <summary>
    /// The backend itself, one orchestration instance at a time, in the terms of Durable Functions' published figures:
    /// empty activities in sequence, empty activities fanned out at once, and external events taken in turn.
    /// </summary>
    async Task PerInstanceAsync(CancellationToken cancellationToken)
    {
        var n = options.PerInstanceCount;
        var client = bare!.Client;
        Say($"backend per instance: {n} sequential activities, {n} fanned-out activities, {n} external events");

        var sequence = await ElapsedAsync(await client.ScheduleNewOrchestrationInstanceAsync(nameof(SequenceOrchestrator), n, cancellationToken), null, cancellationToken);
        var fanOut = await ElapsedAsync(await client.ScheduleNewOrchestrationInstanceAsync(nameof(FanOutOrchestrator), n, cancellationToken), null, cancellationToken);

        var events = await client.ScheduleNewOrchestrationInstanceAsync(nameof(EventsOrchestrator), n, cancellationToken);
        await client.WaitForInstanceStartAsync(events, cancellationToken);
        var raised = DateTimeOffset.UtcNow;
        // Raised by a few senders at once, so the sender's own pace is not what is measured.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async sender =>
        {
            for (var i = sender; i < n; i += 8)
            {
                await client.RaiseEventAsync(events, EventsOrchestrator.EventName, i, cancellationToken);
            }
        }));
        var taken = await ElapsedAsync(events, raised, cancellationToken);

        results.PerInstance = new PerInstanceResult(n, n / sequence.TotalSeconds, n / fanOut.TotalSeconds, n / taken.TotalSeconds);
        Say($"backend per instance: {results.PerInstance.SequentialActivitiesPerSecond:0} sequential activities/s, " +
            $"{results.PerInstance.FanOutActivitiesPerSecond:0} fanned-out activities/s, {results.PerInstance.EventsPerSecond:0} events/s");
    }

    /// <summary>From the instance's creation (or <paramref name="from"/>) to its completion, by the backend's timestamps.</summary>
    async Task<TimeSpan> ElapsedAsync(string instanceId, DateTimeOffset? from, CancellationToken cancellationToken)
    {
        OrchestrationMetadata done = await WaitForBareAsync(instanceId, TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(3), cancellationToken);
        return done.LastUpdatedAt - (from ?? done.CreatedAt);
    }
}
