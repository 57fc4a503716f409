namespace Orchflow.Abstractions;

/// <summary>
/// An MCP server an account registered, with the tools it listed when last asked. Holds the names of the headers sent
/// to it and the name of the secret that holds their values, never the values.
/// </summary>
public sealed record ToolServerRecord(
    string AccountId,
    string ServerId,
    string Url,
    string Label,
    IReadOnlyList<string> HeaderNames,
    string? SecretName,
    IReadOnlyList<ToolServerTool> Tools,
    bool ToolsTruncated,
    DateTimeOffset CreatedAt,
    DateTimeOffset RefreshedAt,
    string? ETag = null)
{
    public ToolServerTool? Tool(string name) => Tools.FirstOrDefault(t => t.Name == name);
}

/// <summary>One tool as its server listed it: its own name (not prefixed), what it does, and its arguments' JSON schema.</summary>
public sealed record ToolServerTool(string Name, string Description, string InputSchemaJson);

/// <summary>The tool servers each account registered.</summary>
public interface IToolServerStore
{
    /// <summary>Adds the server unless the account already has <paramref name="maxPerAccount"/>; false then, and nothing stored.</summary>
    Task<bool> TryCreateAsync(ToolServerRecord server, int maxPerAccount, CancellationToken cancellationToken);

    Task<ToolServerRecord?> GetAsync(string accountId, string serverId, CancellationToken cancellationToken);

    /// <summary>The account's tool servers, oldest first.</summary>
    Task<IReadOnlyList<ToolServerRecord>> ListAsync(string accountId, CancellationToken cancellationToken);

    /// <summary>Replaces the server as read (its ETag); false when it changed or went in between.</summary>
    Task<bool> TryReplaceAsync(ToolServerRecord server, CancellationToken cancellationToken);

    /// <summary>Deletes the server; false when the account has no such server.</summary>
    Task<bool> DeleteAsync(string accountId, string serverId, CancellationToken cancellationToken);
}
