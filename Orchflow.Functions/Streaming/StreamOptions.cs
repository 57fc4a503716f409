namespace Orchflow.Functions.Streaming;

/// <summary>Live event streams (section <c>Orchflow:Streams</c>).</summary>
public sealed class StreamOptions
{
    public const string Section = "Orchflow:Streams";

    /// <summary>
    /// How often a watched run's log is read when no write in this process said it changed: how late an event logged
    /// by another instance (in Azure, the durable workers) can reach a stream here.
    /// </summary>
    public int PollMs { get; set; } = 500;

    /// <summary>
    /// How often the stored texts of a watched run are read while clients watch them and another instance is writing one
    /// (the run's log says so): how late text written elsewhere can reach a stream here. Text written here is seen at once.
    /// </summary>
    public int OutputPollMs { get; set; } = 200;

    /// <summary>The longest a stream stays silent: a comment is sent after this long without an event, so proxies keep it open.</summary>
    public int HeartbeatSeconds { get; set; } = 15;
}
