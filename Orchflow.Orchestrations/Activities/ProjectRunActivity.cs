using Microsoft.DurableTask;
using Orchflow.Abstractions;

namespace Orchflow.Activities;

/// <summary>Records a run's transition in the projection; false when the run had already ended (cancelled).</summary>
public sealed class ProjectRunActivity(IRunStore runs) : TaskActivity<RunTransition, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, RunTransition input) =>
        runs.ApplyAsync(input, CancellationToken.None);
}
