using Microsoft.DurableTask;

namespace Orchflow.Bench;

/// <summary>A plan's graph to run on the bare engine, each model call standing for <paramref name="LatencyMs"/> of waiting.</summary>
/// <param name="WriteTransitions">
/// Call one more empty activity before starting each batch of tasks, where Orchflow recorded the batch's transitions in
/// its projection before its agents recorded their own start: those turns, with none of the storage work.
/// </param>
public sealed record DagInput(IReadOnlyList<PlanNode> Nodes, int LatencyMs, int MaxParallel, bool WriteTransitions = false);

/// <summary>
/// The shape of an Orchflow run on the Durable Task SDK alone: a planning call, then every task as soon as the tasks it
/// depends on are done (at most <see cref="DagInput.MaxParallel"/> at once), then a synthesis call. No projection, no
/// storage reads or writes: what is left is the engine's own cost.
/// </summary>
public sealed class DagOrchestrator : TaskOrchestrator<DagInput, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, DagInput input)
    {
        await context.CallActivityAsync<int>(nameof(ModelStepActivity), input.LatencyMs);
        var done = input.Nodes.Where(n => !n.IsAgent).Select(n => n.Id).ToHashSet();
        var started = new HashSet<string>(done);
        var running = new Dictionary<Task<int>, string>();
        while (done.Count < input.Nodes.Count)
        {
            var batch = input.Nodes.Where(n => !started.Contains(n.Id) && n.DependsOn.All(done.Contains))
                .Take(input.MaxParallel - running.Count)
                .ToList();
            if (batch.Count > 0 && input.WriteTransitions)
            {
                await context.CallActivityAsync<int>(nameof(ModelStepActivity), 0);
            }

            foreach (var node in batch)
            {
                running.Add(context.CallActivityAsync<int>(nameof(ModelStepActivity), input.LatencyMs), node.Id);
                started.Add(node.Id);
            }

            if (running.Count == 0)
            {
                throw new InvalidOperationException("The graph has tasks whose dependencies can never complete.");
            }

            var finished = await Task.WhenAny(running.Keys);
            await finished;
            done.Add(running[finished]);
            running.Remove(finished);
        }

        await context.CallActivityAsync<int>(nameof(ModelStepActivity), input.LatencyMs);
        return input.Nodes.Count + 2;
    }
}

/// <summary>One orchestration fanning out to this many empty activities at once (Durable Functions' fan-out figure).</summary>
public sealed class FanOutOrchestrator : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int count)
    {
        var all = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => context.CallActivityAsync<int>(nameof(ModelStepActivity), 0)));
        return all.Length;
    }
}

/// <summary>One orchestration calling this many empty activities one after another (Durable Functions' sequential figure).</summary>
public sealed class SequenceOrchestrator : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await context.CallActivityAsync<int>(nameof(ModelStepActivity), 0);
        }

        return count;
    }
}

/// <summary>One orchestration taking this many external events in turn (Durable Functions' external-event figure).</summary>
public sealed class EventsOrchestrator : TaskOrchestrator<int, int>
{
    public const string EventName = "next";

    public override async Task<int> RunAsync(TaskOrchestrationContext context, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await context.WaitForExternalEvent<int>(EventName);
        }

        return count;
    }
}

/// <summary>Stands for a model call: waits the given milliseconds (none for an empty activity) and returns.</summary>
public sealed class ModelStepActivity : TaskActivity<int, int>
{
    public override async Task<int> RunAsync(TaskActivityContext context, int latencyMs)
    {
        if (latencyMs > 0)
        {
            await Task.Delay(latencyMs);
        }

        return latencyMs;
    }
}
