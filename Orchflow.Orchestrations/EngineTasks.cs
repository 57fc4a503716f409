using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Orchflow.Activities;
using Orchflow.Orchestrators;

namespace Orchflow;

/// <summary>
/// The engine's orchestrator and activities, listed once. The standalone host registers them with its Durable Task
/// worker from here; the Functions app's trigger wrappers (which the Functions SDK needs written out) are held to this
/// list by a test, and both take the activities from the container this registers them in.
/// </summary>
public static class EngineTasks
{
    public static readonly Type Orchestrator = typeof(RunOrchestrator);

    public static readonly IReadOnlyList<Type> Activities =
        [typeof(PlanRunActivity), typeof(ExecuteAgentTaskActivity), typeof(SynthesizeRunActivity), typeof(RecordRunChangeActivity)];

    /// <summary>The activities, resolved per invocation with their dependencies.</summary>
    public static IServiceCollection AddEngineActivities(this IServiceCollection services)
    {
        foreach (var activity in Activities)
        {
            services.AddTransient(activity);
        }

        return services;
    }

    /// <summary>The orchestrator and every activity, under their class names (what the orchestrator calls them by).</summary>
    public static DurableTaskRegistry AddEngineTasks(this DurableTaskRegistry registry)
    {
        registry.AddOrchestrator(Orchestrator);
        foreach (var activity in Activities)
        {
            registry.AddActivity(activity);
        }

        return registry;
    }
}
