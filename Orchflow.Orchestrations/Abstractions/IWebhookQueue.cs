namespace Orchflow.Abstractions;

/// <summary>
/// The queue webhook work travels on: messages that may show after a delay, taken for a while by one worker, and
/// deleted once handled (a message not deleted shows again, so work is done at least once).
/// </summary>
public interface IWebhookQueue
{
    /// <summary>Sends a message that shows after <paramref name="delay"/>; returns what it takes to change or delete it.</summary>
    Task<QueuedMessage> SendAsync(string text, TimeSpan delay, CancellationToken cancellationToken);

    /// <summary>Makes a hidden message show now.</summary>
    Task ShowNowAsync(QueuedMessage message, CancellationToken cancellationToken);

    Task DeleteAsync(QueuedMessage message, CancellationToken cancellationToken);

    /// <summary>Takes up to <paramref name="count"/> messages, hiding them from others for <paramref name="hold"/>.</summary>
    Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(int count, TimeSpan hold, CancellationToken cancellationToken);

    /// <summary>Completes when this process made a message show, or after <paramref name="timeout"/>.</summary>
    Task WaitForWorkAsync(TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>A message as sent or last changed: its id and the receipt that changes or deletes it.</summary>
public sealed record QueuedMessage(string Id, string Receipt);

/// <summary>A message taken from the queue, and how many times it has been taken.</summary>
public sealed record ReceivedMessage(QueuedMessage Message, string Text, long DequeueCount);
