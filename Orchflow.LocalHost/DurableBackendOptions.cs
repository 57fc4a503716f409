namespace Orchflow.LocalHost;

/// <summary>The standalone host's durable backend (section <c>Orchflow:Durable</c>).</summary>
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
    /// How long a dequeued work item (an activity, or an orchestration's messages) stays invisible to other workers
    /// before it is delivered again: how long a crashed process's work waits before another process picks it up.
    /// </summary>
    public int WorkItemVisibilityTimeoutSeconds { get; set; } = 60;
}
