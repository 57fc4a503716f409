namespace Orchflow.LocalHost;

/// <summary>
/// The standalone host's durable backend (section <c>Orchflow:Durable</c>). The lease and visibility values are tuned
/// for workers on one machine that should take over from each other within seconds; <c>host.json</c> keeps the
/// backend's defaults for Azure, where a network hiccup or a slow instance must not be mistaken for a dead worker.
/// </summary>
public sealed class DurableBackendOptions
{
    public const string Section = "Orchflow:Durable";

    /// <summary>Storage for the task hub; defaults to <c>Orchflow:Storage:ConnectionString</c>.</summary>
    public string? ConnectionString { get; set; }

    public string TaskHub { get; set; } = "orchflow";

    /// <summary>
    /// The longest an idle hub waits between queue polls. Durable Functions' default is 30 s, which is how long a
    /// human's answer could sit unnoticed; locally a short interval costs nothing.
    /// </summary>
    public int MaxQueuePollingIntervalMs { get; set; } = 500;

    public int PartitionCount { get; set; } = 4;

    /// <summary>
    /// How long a dequeued message (an activity's, or an orchestration's) stays invisible to other workers: how long
    /// the work a killed worker had taken waits before another picks it up. Activities are renewed while they run
    /// (<see cref="ActivityLockRenewal"/>), so this does not bound how long one may take; an orchestration's messages
    /// are not, but the backend hands them over in well under a second. The default is 5 minutes.
    /// </summary>
    public int WorkItemVisibilityTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// How long a control-queue partition stays with a worker that stopped renewing it: with
    /// <see cref="LeaseAcquireIntervalSeconds"/>, how long a killed worker's runs wait for a survivor. The default is 30 s.
    /// </summary>
    public int LeaseIntervalSeconds { get; set; } = 10;

    /// <summary>
    /// How often each worker renews its partition leases, claims expired ones and balances them with the other workers.
    /// The table partition manager renews on this loop (it ignores the backend's separate renew interval), so it must
    /// fit several times into <see cref="LeaseIntervalSeconds"/>. The default is 10 s.
    /// </summary>
    public int LeaseAcquireIntervalSeconds { get; set; } = 2;

    /// <summary>
    /// Activities (agent tasks, plans, syntheses, projection writes) this host runs at once. The backend's default is
    /// ten per core; the sidecar's dispatcher, once that many run, looks for the next only every 500 ms, so a host whose
    /// activities mostly wait on a model should admit many more.
    /// </summary>
    public int MaxConcurrentActivities { get; set; } = 100;

    /// <summary>Orchestration turns this host runs at once; as for activities, a full dispatcher looks again every 500 ms.</summary>
    public int MaxConcurrentOrchestrations { get; set; } = 100;
}
