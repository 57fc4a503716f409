using System.Collections.Concurrent;
using DurableTask.Core;

namespace Orchflow.LocalHost;

/// <summary>
/// The orchestration service as the sidecar sees it: the backend's own, except that an activity's work-item message is
/// kept invisible for as long as the activity runs. The sidecar's dispatcher never renews an activity's lock
/// (DurableTask.Core's dispatcher, which the Functions host uses, does), so without this an activity that outlasts the
/// visibility timeout, such as a slow model call, would be delivered again and run a second time next to the first.
/// It also stops the backend for the host (<see cref="StopAsync(bool)"/>), handing back what the stopped worker held.
/// </summary>
sealed class ActivityLockRenewal(IOrchestrationService inner, TimeSpan visibilityTimeout, ILogger<ActivityLockRenewal> log)
    : IOrchestrationService, IAsyncDisposable
{
    readonly ConcurrentDictionary<string, Renewal> renewals = new();
    readonly Lock stopping = new();
    Task? stopped;

    /// <summary>Three renewals per visibility timeout, so two can fail before the message shows again.</summary>
    TimeSpan Period => TimeSpan.FromMilliseconds(Math.Max(250, visibilityTimeout.TotalMilliseconds / 3));

    public async Task<TaskActivityWorkItem?> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        // Null when the receive ended without a message.
        TaskActivityWorkItem? workItem = await inner.LockNextTaskActivityWorkItem(receiveTimeout, cancellationToken);
        if (workItem is not null)
        {
            var stop = new CancellationTokenSource();
            renewals[workItem.Id] = new Renewal(workItem, RenewUntilStoppedAsync(workItem, stop.Token), stop);
        }

        return workItem;
    }

    public async Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage)
    {
        // Stopped first: a renewal changes the message's pop receipt, which the delete that completes it needs.
        await StopRenewingAsync(workItem.Id);
        await inner.CompleteTaskActivityWorkItemAsync(workItem, responseMessage);
    }

    public async Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem)
    {
        await StopRenewingAsync(workItem.Id);
        await inner.AbandonTaskActivityWorkItemAsync(workItem);
    }

    public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) =>
        inner.RenewTaskActivityWorkItemLockAsync(workItem);

    async Task RenewUntilStoppedAsync(TaskActivityWorkItem workItem, CancellationToken stop)
    {
        while (true)
        {
            try
            {
                await Task.Delay(Period, stop);
            }
            catch (OperationCanceledException)
            {
                return; // The activity finished.
            }

            try
            {
                await inner.RenewTaskActivityWorkItemLockAsync(workItem);
            }
            catch (Exception e)
            {
                // Whatever failed (the backend's storage exception type is internal), the activity runs on and the next
                // period tries again; only when every renewal fails is the activity delivered a second time.
                log.LogWarning(e, "Could not renew the lock of activity work item {WorkItemId} of {InstanceId}",
                    workItem.Id, workItem.TaskMessage.OrchestrationInstance.InstanceId);
            }
        }
    }

    /// <summary>Stops renewing the work item's lock; false when it was not being renewed (it completed, or was handed back).</summary>
    async Task<bool> StopRenewingAsync(string workItemId)
    {
        if (!renewals.TryRemove(workItemId, out var renewal))
        {
            return false;
        }

        await renewal.Stop.CancelAsync();
        await renewal.Loop;
        renewal.Stop.Dispose();
        return true;
    }

    /// <summary>
    /// Stops the backend once, however many ask (the sidecar on its way down, and the host after it). Activities still
    /// held (the worker that ran them has stopped) are handed back first, so the next worker takes them at once instead
    /// of after their visibility timeout; then the backend releases its partition leases, so the next worker need not
    /// wait for them to expire either. (Messages the backend fetched ahead for its partitions still wait out theirs.)
    /// </summary>
    public Task StopAsync(bool isForced)
    {
        lock (stopping)
        {
            return stopped ??= StopOnceAsync(isForced);
        }
    }

    public Task StopAsync() => StopAsync(isForced: false);

    async Task StopOnceAsync(bool isForced)
    {
        foreach (var (workItemId, renewal) in renewals)
        {
            if (!await StopRenewingAsync(workItemId))
            {
                continue;
            }

            try
            {
                await inner.AbandonTaskActivityWorkItemAsync(renewal.WorkItem);
            }
            catch (Exception e)
            {
                // Not handed back, it shows again once its visibility timeout has passed, as after a crash.
                log.LogWarning(e, "Could not hand back activity work item {WorkItemId} of {InstanceId}",
                    workItemId, renewal.WorkItem.TaskMessage.OrchestrationInstance.InstanceId);
            }
        }

        await inner.StopAsync(isForced);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var workItemId in renewals.Keys)
        {
            await StopRenewingAsync(workItemId);
        }
    }

    sealed record Renewal(TaskActivityWorkItem WorkItem, Task Loop, CancellationTokenSource Stop);

    // Everything else is the backend's own.
    public int TaskOrchestrationDispatcherCount => inner.TaskOrchestrationDispatcherCount;

    public int MaxConcurrentTaskOrchestrationWorkItems => inner.MaxConcurrentTaskOrchestrationWorkItems;

    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => inner.EventBehaviourForContinueAsNew;

    public int TaskActivityDispatcherCount => inner.TaskActivityDispatcherCount;

    public int MaxConcurrentTaskActivityWorkItems => inner.MaxConcurrentTaskActivityWorkItems;

    public Task StartAsync() => inner.StartAsync();

    public Task CreateAsync() => inner.CreateAsync();

    public Task CreateAsync(bool recreateInstanceStore) => inner.CreateAsync(recreateInstanceStore);

    public Task CreateIfNotExistsAsync() => inner.CreateIfNotExistsAsync();

    public Task DeleteAsync() => inner.DeleteAsync();

    public Task DeleteAsync(bool deleteInstanceStore) => inner.DeleteAsync(deleteInstanceStore);

    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) =>
        inner.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);

    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => inner.GetDelayInSecondsAfterOnProcessException(exception);

    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => inner.GetDelayInSecondsAfterOnFetchException(exception);

    public Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        inner.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken);

    public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) => inner.RenewTaskOrchestrationWorkItemLockAsync(workItem);

    public Task CompleteTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem, OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages, IList<TaskMessage> orchestratorMessages, IList<TaskMessage> timerMessages,
        TaskMessage continuedAsNewMessage, OrchestrationState orchestrationState) =>
        inner.CompleteTaskOrchestrationWorkItemAsync(workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages,
            timerMessages, continuedAsNewMessage, orchestrationState);

    public Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.AbandonTaskOrchestrationWorkItemAsync(workItem);

    public Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.ReleaseTaskOrchestrationWorkItemAsync(workItem);
}
