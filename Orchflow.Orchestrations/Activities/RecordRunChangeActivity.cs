using Microsoft.DurableTask;
using Orchflow.Abstractions;
using Orchflow.Orchestrators;

namespace Orchflow.Activities;

/// <summary>
/// Records a change the orchestrator asks for (tasks started, the run failed, timed out or cancelled), as
/// <see cref="RunChangeRequest.Decide"/> decides it on the run as stored; false when the run had already ended another
/// way or a retry replaced the attempt that asked.
/// </summary>
public sealed class RecordRunChangeActivity(IRunStore runs) : TaskActivity<RunChangeRequest, bool>
{
    public override async Task<bool> RunAsync(TaskActivityContext context, RunChangeRequest input) =>
        await runs.ChangeAsync(input.AccountId, input.RunId, input.Decide, CancellationToken.None) is { Refusal: null };
}
