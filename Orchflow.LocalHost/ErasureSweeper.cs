using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using Orchflow.Erasure;

namespace Orchflow.LocalHost;

/// <summary>
/// The standalone host's erasure sweep, where Azure has a timer trigger: runs <see cref="DataEraser.SweepAsync"/> every
/// <c>Orchflow:Retention:SweepIntervalSeconds</c>, at once when this process asked for an erasure, and again a second
/// later while erasures are still pending (an orchestration that has yet to end, an account still settling).
/// </summary>
public sealed class ErasureSweeper(DataEraser eraser, ErasureSignal signal, DurableTaskClient durable, IOptions<RetentionOptions> options,
    ILogger<ErasureSweeper> log) : BackgroundService
{
    static readonly TimeSpan WhilePending = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.SweepIntervalSeconds);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var pending = false;
                try
                {
                    pending = await eraser.SweepAsync(durable, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogWarning(e, "The erasure sweep failed; it runs again in {Interval}", interval);
                }

                await signal.WaitAsync(pending && WhilePending < interval ? WhilePending : interval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: an erasure left pending is finished by the next sweep of any instance.
        }
    }
}
