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

    /// <summary>The longest a stream stays silent: a comment is sent after this long without an event, so proxies keep it open.</summary>
    public int HeartbeatSeconds { get; set; } = 15;

    public void Validate()
    {
        if (PollMs is < 10 or > 60_000 || HeartbeatSeconds is < 1 or > 200)
        {
            throw new InvalidOperationException(
                $"{Section}:PollMs must be from 10 to 60000 and :HeartbeatSeconds from 1 to 200 (got {PollMs}, {HeartbeatSeconds}).");
        }
    }
}
