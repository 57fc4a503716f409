using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Orchflow.Erasure;

namespace Orchflow.Functions.Functions;

/// <summary>
/// The erasure sweep in Azure, every minute: finishes the erasures asked for (purged runs, closed accounts) and erases
/// ended runs past <c>Orchflow:Retention:EndedRunDays</c>. The standalone host runs the same sweep as a hosted service.
/// </summary>
public sealed class RetentionFunctions(DataEraser eraser)
{
    [Function(nameof(SweepErasures))]
    public Task SweepErasures(
        [TimerTrigger("0 * * * * *")] TimerInfo timer,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken) =>
        eraser.SweepAsync(durable, cancellationToken);
}
