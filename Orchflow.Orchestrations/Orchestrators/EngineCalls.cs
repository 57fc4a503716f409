using Microsoft.DurableTask;
using Orchflow.Activities;
using Orchflow.Models;

namespace Orchflow.Orchestrators;

/// <summary>The engine's activities as an orchestrator calls them: one typed method each, the retry policy at the call site.</summary>
static class EngineCalls
{
    /// <summary>
    /// Activities are retried for what a new attempt can fix (storage hiccups, a lost worker). Model failures are
    /// not: the model call has already retried what was worth retrying, and a rejected key must not be tried again.
    /// </summary>
    static readonly TaskOptions Retry = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: 3, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2)
    {
        HandleFailure = failure => !failure.IsCausedBy<ModelProviderException>(),
    });

    /// <summary>The run's plan for this attempt and review round; null when the run ended before it could be saved.</summary>
    public static Task<PlanOutline?> PlanAsync(this TaskOrchestrationContext context, PlanInput input) =>
        context.CallActivityAsync<PlanOutline?>(nameof(PlanRunActivity), input, Retry);

    public static Task<AgentTaskResult> ExecuteAgentTaskAsync(this TaskOrchestrationContext context, AgentTaskInput input) =>
        context.CallActivityAsync<AgentTaskResult>(nameof(ExecuteAgentTaskActivity), input, Retry);

    /// <summary>Writes the final output and completes the run; not when the run had ended (cancelled) first, or its budget is spent.</summary>
    public static Task<SynthesisResult> SynthesizeAsync(this TaskOrchestrationContext context, SynthesisInput input) =>
        context.CallActivityAsync<SynthesisResult>(nameof(SynthesizeRunActivity), input, Retry);

    /// <summary>Records a change of the run; false when the run had already ended another way. Throws when the write keeps failing.</summary>
    public static Task<bool> RecordAsync(this TaskOrchestrationContext context, RunChangeRequest request) =>
        context.CallActivityAsync<bool>(nameof(RecordRunChangeActivity), request, Retry);
}
