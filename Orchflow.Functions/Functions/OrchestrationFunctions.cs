using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Orchflow.Activities;
using Orchflow.Orchestrators;

namespace Orchflow.Functions.Functions;

/// <summary>
/// Trigger wrappers that hand the Functions host's orchestration and activity invocations to the engine's classes.
/// The Functions SDK needs each written out; a test holds them to <see cref="EngineTasks"/>, the list the standalone
/// host registers, under the same names (the classes' names).
/// </summary>
public sealed class OrchestrationFunctions(
    PlanRunActivity plan,
    ExecuteAgentTaskActivity execute,
    SynthesizeRunActivity synthesize,
    RecordRunChangeActivity record)
{
    [Function(nameof(RunOrchestrator))]
    public static Task<RunOutcome> RunOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new RunOrchestrator().RunAsync(context, context.GetInput<RunInput>()!);

    [Function(nameof(PlanRunActivity))]
    public Task<PlanOutline?> PlanRunActivity([ActivityTrigger] PlanInput input, FunctionContext context) =>
        plan.RunAsync(new FunctionActivityContext(nameof(PlanRunActivity), context), input);

    [Function(nameof(ExecuteAgentTaskActivity))]
    public Task<AgentTaskResult> ExecuteAgentTaskActivity([ActivityTrigger] AgentTaskInput input, FunctionContext context) =>
        execute.RunAsync(new FunctionActivityContext(nameof(ExecuteAgentTaskActivity), context), input);

    [Function(nameof(SynthesizeRunActivity))]
    public Task<SynthesisResult> SynthesizeRunActivity([ActivityTrigger] SynthesisInput input, FunctionContext context) =>
        synthesize.RunAsync(new FunctionActivityContext(nameof(SynthesizeRunActivity), context), input);

    [Function(nameof(RecordRunChangeActivity))]
    public Task<bool> RecordRunChangeActivity([ActivityTrigger] RunChangeRequest input, FunctionContext context) =>
        record.RunAsync(new FunctionActivityContext(nameof(RecordRunChangeActivity), context), input);

    /// <summary>The activity context the engine's activities expect, built from the Functions invocation.</summary>
    sealed class FunctionActivityContext(string name, FunctionContext context) : TaskActivityContext
    {
        public override TaskName Name { get; } = name;

        public override string InstanceId { get; } = context.InvocationId;
    }
}
