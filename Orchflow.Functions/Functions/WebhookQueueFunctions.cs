using Microsoft.Azure.Functions.Worker;
using Orchflow.Webhooks;

namespace Orchflow.Functions.Functions;

/// <summary>
/// The webhook queue's trigger in Azure: each message is a dispatch of a commit's events or one delivery attempt
/// (see <see cref="WebhookDispatcher"/>). A message whose handling throws is taken again later, as the host does.
/// </summary>
public sealed class WebhookQueueFunctions(WebhookDispatcher dispatcher)
{
    /// <summary>The app setting naming the queue, shared with <see cref="WebhookOptions.Queue"/>: flat, so Flex's scale controller resolves it.</summary>
    public const string QueueSetting = "%" + WebhookOptions.QueueSetting + "%";

    [Function(nameof(HandleWebhookMessage))]
    public Task HandleWebhookMessage(
        [QueueTrigger(QueueSetting, Connection = "AzureWebJobsStorage")] string message,
        CancellationToken cancellationToken) =>
        dispatcher.HandleAsync(message, cancellationToken);
}
