using System.Diagnostics;
using Orchflow.Tools;
using static Orchflow.Telemetry.OrchflowTelemetry;

namespace Orchflow.Telemetry;

/// <summary>
/// One tool call as telemetry sees it: a client span <c>orchflow.tool.call</c> (the HTTP requests it makes are its
/// children) with the tool's name, its server for an MCP tool, and how the call ended. Never the arguments, the result
/// or a server's headers. Tagged with the run and task under way, like every span of Orchflow's.
/// </summary>
public sealed class ToolCallSpan : IDisposable
{
    readonly Activity? span;
    bool ended;

    ToolCallSpan(string tool, string? serverId)
    {
        span = StartSpan("orchflow.tool.call", ActivityKind.Client);
        span?.SetTag(Tags.ToolName, tool);
        if (serverId is not null)
        {
            span?.SetTag(Tags.ToolServerId, serverId);
        }
    }

    public static ToolCallSpan Start(string tool, string? serverId) => new(tool, serverId);

    /// <summary>How the call ended; the span's status is an error for all but <see cref="ToolCallOutcome.Ok"/>.</summary>
    public void Ended(ToolCallOutcome outcome)
    {
        ended = true;
        var word = Word(outcome);
        span?.SetTag(Tags.ToolOutcome, word);
        span?.SetStatus(outcome == ToolCallOutcome.Ok ? ActivityStatusCode.Ok : ActivityStatusCode.Error, outcome == ToolCallOutcome.Ok ? null : word);
    }

    public static string Word(ToolCallOutcome outcome) => outcome switch
    {
        ToolCallOutcome.Ok => "ok",
        ToolCallOutcome.Timeout => "timeout",
        ToolCallOutcome.Refused => "refused",
        _ => "failed",
    };

    /// <summary>Ends the span; a call that reached no outcome was cancelled or broke on Orchflow's side.</summary>
    public void Dispose()
    {
        if (!ended)
        {
            span?.SetStatus(ActivityStatusCode.Error, "abandoned");
        }

        span?.Dispose();
    }
}
