using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;

namespace Orchflow.Webhooks;

/// <summary>
/// Puts a dispatch message on the webhook queue ahead of each commit whose events some webhook of the account wants,
/// hidden for <see cref="WebhookOptions.OutboxDelaySeconds"/>, and shows it as soon as the commit landed. Accounts
/// without such a webhook cost nothing but a look in memory. Nothing here may fail or hold up the run: failures are
/// logged, and the worst a failure costs is a delivery that comes late (or, with storage down, not at all).
/// </summary>
public sealed class WebhookOutbox(WebhookDirectory directory, IWebhookQueue queue, IOptions<WebhookOptions> options, ILogger<WebhookOutbox> log)
    : IRunLogOutbox
{
    readonly TimeSpan hidden = TimeSpan.FromSeconds(options.Value.OutboxDelaySeconds);

    public async Task<RunLogNotice?> PrepareAsync(
        string accountId, string runId, IReadOnlyList<RunLogEntry> entries, CancellationToken cancellationToken)
    {
        if (entries.Count == 0)
        {
            return null;
        }

        try
        {
            var webhooks = await directory.ForAccountAsync(accountId, cancellationToken);
            if (!webhooks.Any(w => w.Enabled && entries.Any(e => w.Events.Contains(e.Type))))
            {
                return null;
            }

            var message = new DispatchMessage(accountId, runId, entries[0].Sequence, entries[^1].Sequence);
            var sent = await queue.SendAsync(message.ToJson(), hidden, cancellationToken);
            return new RunLogNotice(sent.Id, sent.Receipt);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "Events {From} to {To} of run {RunId} could not be queued for webhooks; they will not be delivered",
                entries[0].Sequence, entries[^1].Sequence, runId);
            return null;
        }
    }

    /// <summary>
    /// Shows the notice without holding up the writer: the commit has landed, so should this process die before the
    /// notice shows, it still shows after its delay.
    /// </summary>
    public Task ConfirmAsync(RunLogNotice notice, CancellationToken cancellationToken)
    {
        _ = ShowAsync(notice);
        return Task.CompletedTask;
    }

    /// <summary>Deletes the notice in the background; one left behind finds nothing, or what the winning writer logged.</summary>
    public Task AbandonAsync(RunLogNotice notice, CancellationToken cancellationToken)
    {
        _ = DeleteAsync(notice);
        return Task.CompletedTask;
    }

    async Task ShowAsync(RunLogNotice notice)
    {
        try
        {
            await queue.ShowNowAsync(new QueuedMessage(notice.MessageId, notice.Receipt), CancellationToken.None);
        }
        catch (Exception e)
        {
            log.LogWarning(e, "Webhook dispatch {MessageId} could not be shown at once; it shows after {Delay}", notice.MessageId, hidden);
        }
    }

    async Task DeleteAsync(RunLogNotice notice)
    {
        try
        {
            await queue.DeleteAsync(new QueuedMessage(notice.MessageId, notice.Receipt), CancellationToken.None);
        }
        catch (Exception e)
        {
            log.LogDebug(e, "Webhook dispatch {MessageId} of an abandoned commit was left to expire", notice.MessageId);
        }
    }
}
