namespace Orchflow.Functions.Streaming;

/// <summary>Live event streams (section <c>Orchflow:Streams</c>).</summary>
public sealed class StreamOptions
{
    public const string Section = "Orchflow:Streams";

    /// <summary>
    /// How often a watched run's log is probed for an event logged by another instance (in Azure, the durable workers)
    /// while the run moves elsewhere: how late such an event can reach a stream here. What this process logs arrives at once.
    /// </summary>
    public int PollMs { get; set; } = 500;

    /// <summary>
    /// How often a watched run's log is probed once probes keep finding nothing this process had not already logged
    /// itself: the probe interval doubles from <see cref="PollMs"/> up to this while the run is quiet elsewhere, and
    /// drops back to it as soon as a probe finds an event another instance logged.
    /// </summary>
    public int IdlePollMs { get; set; } = 2_000;

    /// <summary>
    /// How often the stored texts of a watched run are read while clients watch them and another instance is writing one
    /// (the run's log says so): how late text written elsewhere can reach a stream here. Text written here is seen at once.
    /// </summary>
    public int OutputPollMs { get; set; } = 200;

    /// <summary>The longest a stream stays silent: a comment is sent after this long without an event, so proxies keep it open.</summary>
    public int HeartbeatSeconds { get; set; } = 15;

    /// <summary>Live streams one account may hold open on one instance at once; one more is answered 429 until one ends.</summary>
    public int MaxPerCaller { get; set; } = 20;

    /// <summary>
    /// The longest one stream stays open; it then ends, every event sent whole, and the client reconnects with
    /// <c>Last-Event-ID</c>. Below the Functions host's <c>functionTimeout</c> (30 minutes), which would cut it short.
    /// </summary>
    public int MaxLifetimeSeconds { get; set; } = 25 * 60;
}
