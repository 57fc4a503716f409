using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchflow.Abstractions;
using Orchflow.Domain;
using Orchflow.Telemetry;

namespace Orchflow.Tools;

/// <summary>
/// The tools of an account: <c>fetch_url</c>, and each tool its registered MCP servers listed, named
/// <c>mcs_…/tool</c>. Definitions come from the lists stored at registration or refresh; calls go to the server live,
/// on this process's session with it, within <see cref="ToolOptions.CallTimeout"/>.
/// </summary>
public sealed class Toolbox(
    IToolServerStore servers,
    ToolServers directory,
    McpSessions sessions,
    FetchUrlTool fetchUrl,
    IOptions<ToolOptions> options,
    ILogger<Toolbox> log) : IToolbox
{
    /// <summary>The built-in tools, by name.</summary>
    public static readonly IReadOnlyDictionary<string, ToolDefinition> BuiltIn =
        new Dictionary<string, ToolDefinition>(StringComparer.Ordinal) { [FetchUrlTool.Name] = FetchUrlTool.Definition };

    public async Task<ToolLookup> FindAsync(string accountId, IReadOnlyCollection<string> names, CancellationToken cancellationToken)
    {
        var found = new List<ToolDefinition>();
        var unknown = new List<string>();
        var read = new Dictionary<string, ToolServerRecord?>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (BuiltIn.TryGetValue(name, out var builtIn))
            {
                found.Add(builtIn);
                continue;
            }

            if (Split(name) is not var (serverId, tool))
            {
                unknown.Add(name);
                continue;
            }

            if (!read.TryGetValue(serverId, out var server))
            {
                read[serverId] = server = await servers.GetAsync(accountId, serverId, cancellationToken);
            }

            if (server?.Tool(tool) is { } listed)
            {
                found.Add(new ToolDefinition(name, listed.Description, listed.InputSchemaJson));
            }
            else
            {
                unknown.Add(name);
            }
        }

        return new ToolLookup(found, unknown);
    }

    public async Task<ReadyToolCall> ReadyAsync(string accountId, string tool, CancellationToken cancellationToken)
    {
        if (tool == FetchUrlTool.Name)
        {
            return Ready(tool, null, fetchUrl.CallAsync);
        }

        // Read off the caller's thread: a tool loop starts this read just before the model's turn and the step's record,
        // which should not wait while its storage request is signed and sent.
        await Task.Yield();

        if (Split(tool) is not var (serverId, name))
        {
            return Refused(tool, null, $"There is no tool named '{ToolFailures.Cut(tool, 200)}': tools are fetch_url or named <server_id>/<tool>.");
        }

        var server = await servers.GetAsync(accountId, serverId, cancellationToken);
        if (server is null)
        {
            return Refused(tool, serverId, $"There is no tool server {serverId} in this account; it may have been deleted.");
        }

        if (server.Tool(name) is null)
        {
            return Refused(tool, serverId, $"The tool server {serverId} lists no tool named '{name}' (as of its last refresh).");
        }

        // Read before the server is talked to: a fault of the secret store is Orchflow's own, and is thrown.
        var headers = await directory.HeadersAsync(server, cancellationToken);
        return Ready(tool, serverId, (argumentsJson, token) => CallMcpAsync(server, name, headers, argumentsJson, token));
    }

    /// <summary>A call that, once made, is told under a span and a log line of its own, with how it ended.</summary>
    ReadyToolCall Ready(string tool, string? serverId, Func<string, CancellationToken, Task<(ToolCallOutcome, ToolOutcome)>> call) =>
        new(async (argumentsJson, cancellationToken) =>
        {
            using var span = ToolCallSpan.Start(tool, serverId);
            var (outcome, result) = await call(argumentsJson, cancellationToken);
            span.Ended(outcome);
            log.LogInformation("Tool {Tool} called: {Outcome}", tool, ToolCallSpan.Word(outcome));
            return result;
        });

    ReadyToolCall Refused(string tool, string? serverId, string message) =>
        Ready(tool, serverId, (_, _) => Task.FromResult(Refused(message)));

    async Task<(ToolCallOutcome, ToolOutcome)> CallMcpAsync(
        ToolServerRecord server, string name, IReadOnlyDictionary<string, string> headers, string argumentsJson, CancellationToken cancellationToken)
    {
        var serverId = server.ServerId;
        if (ToolResults.Arguments(argumentsJson) is not { } arguments)
        {
            return Refused($"The arguments of {serverId}/{name} must be a JSON object.");
        }

        var timeout = options.Value.CallTimeout;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            var result = await sessions.UseAsync(
                serverId, new Uri(server.Url), headers, timeout,
                client => client.CallToolAsync(name, arguments, cancellationToken: limit.Token).AsTask(), limit.Token);
            var text = ToolResults.Cut(ToolResults.Text(result));
            return result.IsError == true
                ? (ToolCallOutcome.Failed, ToolOutcome.Failed(ToolResults.Cut($"The tool {serverId}/{name} reported an error: {text}")))
                : (ToolCallOutcome.Ok, ToolOutcome.Succeeded(text));
        }
        catch (Exception e) when (ToolFailures.Describe(e, $"The tool server {serverId} ({server.Url})", timeout, cancellationToken) is { } failure)
        {
            return (failure.Outcome, ToolOutcome.Failed(failure.Message));
        }
    }

    /// <summary>The server id and the tool's own name of an MCP tool's name (<c>mcs_…/tool</c>); null for any other name.</summary>
    public static (string ServerId, string Tool)? Split(string name)
    {
        var slash = name.IndexOf('/');
        return slash > 0 && Ids.LooksLike("mcs", name[..slash]) && ToolLists.IsName(name[(slash + 1)..])
            ? (name[..slash], name[(slash + 1)..])
            : null;
    }

    static (ToolCallOutcome, ToolOutcome) Refused(string message) => (ToolCallOutcome.Refused, ToolOutcome.Failed(message));
}
