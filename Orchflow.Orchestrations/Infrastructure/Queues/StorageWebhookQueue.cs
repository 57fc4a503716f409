using Azure.Identity;
using Azure.Storage.Queues;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Infrastructure.Storage;
using Orchflow.Webhooks;

namespace Orchflow.Infrastructure.Queues;

/// <summary>
/// The webhook queue on Azure Queue Storage. Messages are base64, as the Functions queue trigger reads them by
/// default. A message this process makes visible wakes this process's worker at once, without waiting for a poll.
/// </summary>
public sealed class StorageWebhookQueue : IWebhookQueue
{
    readonly QueueClient queue;
    readonly Lock gate = new();
    Task? created;
    TaskCompletionSource work = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public StorageWebhookQueue(IOptions<StorageOptions> storage, IOptions<WebhookOptions> webhooks)
    {
        var s = storage.Value;
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        var service = !string.IsNullOrWhiteSpace(s.ConnectionString)
            ? new QueueServiceClient(s.ConnectionString, options)
            : !string.IsNullOrWhiteSpace(s.QueueServiceUri)
                ? new QueueServiceClient(new Uri(s.QueueServiceUri), new DefaultAzureCredential(), options)
                : throw new InvalidOperationException(
                    $"Set {StorageOptions.Section}:ConnectionString or {StorageOptions.Section}:QueueServiceUri for webhook deliveries.");
        queue = service.GetQueueClient(webhooks.Value.Queue);
    }

    public async Task<QueuedMessage> SendAsync(string text, TimeSpan delay, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync();

        // The service counts hidden time in whole seconds and would cut 0.9 s to none: round up instead.
        var hidden = TimeSpan.FromSeconds(Math.Ceiling(Math.Max(0, delay.TotalSeconds)));
        var receipt = await queue.SendMessageAsync(text, hidden, timeToLive: null, cancellationToken);
        if (hidden == TimeSpan.Zero)
        {
            Wake();
        }
        else
        {
            // This process's worker looks again when the message shows, rather than at its next idle poll.
            _ = Task.Delay(hidden + TimeSpan.FromMilliseconds(20), CancellationToken.None).ContinueWith(_ => Wake(), TaskScheduler.Default);
        }

        return new QueuedMessage(receipt.Value.MessageId, receipt.Value.PopReceipt);
    }

    public async Task ShowNowAsync(QueuedMessage message, CancellationToken cancellationToken)
    {
        await queue.UpdateMessageAsync(message.Id, message.Receipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: cancellationToken);
        Wake();
    }

    public async Task DeleteAsync(QueuedMessage message, CancellationToken cancellationToken) =>
        await queue.DeleteMessageAsync(message.Id, message.Receipt, cancellationToken);

    public async Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(int count, TimeSpan hold, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync();
        var messages = await queue.ReceiveMessagesAsync(count, hold, cancellationToken);
        return messages.Value
            .Select(m => new ReceivedMessage(new QueuedMessage(m.MessageId, m.PopReceipt), m.Body.ToString(), m.DequeueCount))
            .ToList();
    }

    public async Task WaitForWorkAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task signal;
        lock (gate)
        {
            signal = work.Task;
        }

        await Task.WhenAny(signal, Task.Delay(timeout, cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();
        lock (gate)
        {
            if (work.Task.IsCompleted)
            {
                work = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    void Wake()
    {
        lock (gate)
        {
            work.TrySetResult();
        }
    }

    /// <summary>Creates the queue once per process; a failed attempt (storage not up yet) is tried again next time.</summary>
    Task EnsureCreatedAsync()
    {
        lock (gate)
        {
            if (created is null || created.IsFaulted || created.IsCanceled)
            {
                created = queue.CreateIfNotExistsAsync();
            }

            return created;
        }
    }
}
