using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Webhooks;

namespace Orchflow.LocalHost;

/// <summary>
/// The standalone host's worker for the webhook queue, where Azure has a queue trigger: it takes messages in small
/// batches and hands each to the <see cref="WebhookDispatcher"/>. Idle, it looks again after a short backoff, or at
/// once when this process queued something. Several hosts on one queue share its messages.
/// </summary>
public sealed class WebhookQueuePoller(IWebhookQueue queue, WebhookDispatcher dispatcher, IOptions<WebhookOptions> options, ILogger<WebhookQueuePoller> log)
    : BackgroundService
{
    const int BatchSize = 16;

    /// <summary>Taken more often than this, a message is given up on, as the queue trigger moves it to a poison queue.</summary>
    const int MaxDequeueCount = 5;

    /// <summary>Longer than one handling can take (an attempt times out after 15 s by default), or it would be handled twice at once.</summary>
    static readonly TimeSpan Hold = TimeSpan.FromSeconds(60);

    static readonly TimeSpan FirstIdleWait = TimeSpan.FromMilliseconds(50);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var longest = TimeSpan.FromMilliseconds(options.Value.MaxPollIntervalMs);
        var idle = FirstIdleWait;
        while (!stoppingToken.IsCancellationRequested)
        {
            IReadOnlyList<ReceivedMessage> messages;
            try
            {
                messages = await queue.ReceiveAsync(BatchSize, Hold, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning(e, "The webhook queue could not be read; trying again in {Delay}", longest);
                messages = [];
            }

            if (messages.Count == 0)
            {
                try
                {
                    await queue.WaitForWorkAsync(idle, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, longest.Ticks));
                continue;
            }

            idle = FirstIdleWait;
            // Handling is not cut short by the host stopping: a message left half handled would only be handled again.
            await Task.WhenAll(messages.Select(m => HandleAsync(m, CancellationToken.None)));
        }
    }

    async Task HandleAsync(ReceivedMessage message, CancellationToken cancellationToken)
    {
        try
        {
            if (message.DequeueCount > MaxDequeueCount)
            {
                log.LogError("Webhook queue message {MessageId} failed {Count} times and is dropped", message.Message.Id, message.DequeueCount - 1);
            }
            else
            {
                await dispatcher.HandleAsync(message.Text, cancellationToken);
            }

            await queue.DeleteAsync(message.Message, cancellationToken);
        }
        catch (Exception e)
        {
            // Left on the queue: it shows again after the hold and is handled again.
            log.LogWarning(e, "Webhook queue message {MessageId} failed; it is taken again in {Hold}", message.Message.Id, Hold);
        }
    }
}
