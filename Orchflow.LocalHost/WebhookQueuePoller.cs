using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Webhooks;

namespace Orchflow.LocalHost;

/// <summary>
/// The standalone host's worker for the webhook queue, where Azure has a queue trigger: it hands each message to the
/// <see cref="WebhookDispatcher"/>, up to <see cref="MaxConcurrent"/> at once, taking more as soon as one is done (an
/// endpoint that never answers holds one slot, not the queue). Idle, it looks again after a short backoff, or at once
/// when this process queued something. Several hosts on one queue share its messages.
/// </summary>
public sealed class WebhookQueuePoller(IWebhookQueue queue, WebhookDispatcher dispatcher, IOptions<WebhookOptions> options, ILogger<WebhookQueuePoller> log)
    : BackgroundService
{
    const int MaxConcurrent = 16;

    /// <summary>Taken more often than this, a message is given up on, as the queue trigger moves it to a poison queue.</summary>
    const int MaxDequeueCount = 5;

    /// <summary>Longer than one handling can take (an attempt times out after 15 s by default), or it would be handled twice at once.</summary>
    static readonly TimeSpan Hold = TimeSpan.FromSeconds(60);

    static readonly TimeSpan FirstIdleWait = TimeSpan.FromMilliseconds(50);

    readonly SemaphoreSlim slots = new(MaxConcurrent, MaxConcurrent);
    readonly ConcurrentDictionary<Task, bool> running = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var longest = TimeSpan.FromMilliseconds(options.Value.MaxPollIntervalMs);
        var idle = FirstIdleWait;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await slots.WaitAsync(stoppingToken);
                var taken = 1;
                while (taken < MaxConcurrent && slots.Wait(0))
                {
                    taken++;
                }

                var messages = await ReceiveAsync(taken, longest, stoppingToken);
                if (taken > messages.Count)
                {
                    slots.Release(taken - messages.Count);
                }

                if (messages.Count == 0)
                {
                    await queue.WaitForWorkAsync(idle, stoppingToken);
                    idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, longest.Ticks));
                    continue;
                }

                idle = FirstIdleWait;
                foreach (var message in messages)
                {
                    var handling = HandleAsync(message);
                    running[handling] = true;
                    _ = handling.ContinueWith(t => running.TryRemove(t, out _), TaskScheduler.Default);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is in hand is finished below, so nothing is left half handled.
        }

        await Task.WhenAll(running.Keys);
    }

    async Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(int count, TimeSpan retry, CancellationToken stoppingToken)
    {
        try
        {
            return await queue.ReceiveAsync(count, Hold, stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning(e, "The webhook queue could not be read; trying again in {Delay}", retry);
            return [];
        }
    }

    /// <summary>Handles one message and frees its slot; not cut short by the host stopping, or it would only be handled again.</summary>
    async Task HandleAsync(ReceivedMessage message)
    {
        try
        {
            if (message.DequeueCount > MaxDequeueCount)
            {
                log.LogError("Webhook queue message {MessageId} failed {Count} times and is dropped", message.Message.Id, message.DequeueCount - 1);
            }
            else
            {
                await dispatcher.HandleAsync(message.Text, CancellationToken.None);
            }

            await queue.DeleteAsync(message.Message, CancellationToken.None);
        }
        catch (Exception e)
        {
            // Left on the queue: it shows again after the hold and is handled again.
            log.LogWarning(e, "Webhook queue message {MessageId} failed; it is taken again in {Hold}", message.Message.Id, Hold);
        }
        finally
        {
            slots.Release();
        }
    }

    public override void Dispose()
    {
        slots.Dispose();
        base.Dispose();
    }
}
