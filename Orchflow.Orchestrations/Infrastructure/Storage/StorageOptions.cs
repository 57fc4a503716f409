namespace Orchflow.Infrastructure.Storage;

/// <summary>Where the projection, accounts and local secrets are kept (section <c>Orchflow:Storage</c>).</summary>
public sealed class StorageOptions
{
    public const string Section = "Orchflow:Storage";

    /// <summary>A storage connection string (Azurite locally). Takes precedence over <see cref="TableServiceUri"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The table endpoint, reached with the app's managed identity, when no connection string is set.</summary>
    public string? TableServiceUri { get; set; }

    /// <summary>The queue endpoint (webhook deliveries), reached with the app's managed identity, when no connection string is set.</summary>
    public string? QueueServiceUri { get; set; }

    /// <summary>Prefix of every table name, so several deployments or test runs can share one account.</summary>
    public string TablePrefix { get; set; } = "orchflow";

    /// <summary>
    /// How long a run's status, as this process last wrote or read it, answers a client's read of the run (a poll, a
    /// conditional read) without reading storage again: how far behind a write made by another instance such a read
    /// can be. Writes made here are seen at once. 0: every read asks storage.
    /// </summary>
    public int ReadFreshnessMs { get; set; } = 250;

    /// <summary>
    /// How much this process keeps of the runs it knows (<see cref="KnownRuns"/>), in characters of their texts (each run
    /// counts a few hundred besides): past it, the runs used longest ago are forgotten.
    /// </summary>
    public long KnownRunsCapacity { get; set; } = 64_000_000;
}
