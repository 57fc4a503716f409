namespace Orchflow.Abstractions;

/// <summary>
/// The tools an account's runs may call: the built-ins (<c>fetch_url</c>) and the tools of the MCP servers it registered,
/// each named as runs name it (<c>fetch_url</c>, <c>mcs_…/search</c>).
/// </summary>
public interface IToolbox
{
    /// <summary>The tools of these names the account may call; the names it has no tool of are listed apart.</summary>
    Task<ToolLookup> FindAsync(string accountId, IReadOnlyCollection<string> names, CancellationToken cancellationToken);

    /// <summary>
    /// Reads what a call to <paramref name="tool"/> needs (an MCP tool's server and its headers) and sends nothing: the
    /// caller may read it while it records the call, and make the call once the record has landed. A tool that cannot be
    /// called (no such server or tool) comes back as a call whose outcome says so. Orchflow's own faults are thrown.
    /// </summary>
    Task<ReadyToolCall> ReadyAsync(string accountId, string tool, CancellationToken cancellationToken);
}

/// <summary>A call to one tool with what it needs already read; <see cref="MakeAsync"/> sends it, as often as it is called.</summary>
public sealed class ReadyToolCall(Func<string, CancellationToken, Task<ToolOutcome>> make)
{
    /// <summary>
    /// Makes the call. Never throws for what the tool or its server did: a tool's error, a server that is down or answers
    /// garbage, a timeout, or a refused address comes back as the outcome's error; a result over the limit comes back
    /// cut, saying so. Cancellation and Orchflow's own faults are thrown.
    /// </summary>
    public Task<ToolOutcome> MakeAsync(string argumentsJson, CancellationToken cancellationToken) => make(argumentsJson, cancellationToken);
}

/// <summary>A tool an agent may be offered: its name as runs name it, what it does, and the JSON schema of its arguments.</summary>
public sealed record ToolDefinition(string Name, string Description, string InputSchemaJson);

public sealed record ToolLookup(IReadOnlyList<ToolDefinition> Found, IReadOnlyList<string> Unknown);

/// <summary>What one call came to: the result's text, or why it failed. Either is what the model is told.</summary>
public sealed record ToolOutcome(string? Result, string? Error)
{
    public static ToolOutcome Succeeded(string result) => new(result, null);

    public static ToolOutcome Failed(string error) => new(null, error);

    public bool IsError => Error is not null;
}

/// <summary>The limits every tool call keeps, whatever serves it.</summary>
public static class ToolLimits
{
    /// <summary>How long one call may take before it is told to the model as timed out.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The most of a result the model is given (characters); a longer one is cut, saying so.</summary>
    public const int MaxResultChars = 64 * 1024;

    /// <summary>The most a page <c>fetch_url</c> reads (bytes), before it is reduced to text.</summary>
    public const int MaxFetchBytes = 2 * 1024 * 1024;

    /// <summary>Tool servers an account may register.</summary>
    public const int MaxServersPerAccount = 10;

    /// <summary>Tool calls one agent task may make by default, and at most.</summary>
    public const int DefaultCallsPerTask = 10, MaxCallsPerTask = 50;
}

/// <summary>The tools every account has, with nothing to register.</summary>
public static class BuiltInTools
{
    /// <summary>GET a public http(s) page, under the address policy, reduced to text.</summary>
    public const string FetchUrl = "fetch_url";
}
