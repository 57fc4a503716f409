using System.Globalization;
using System.Net;
using System.Text.Json;
using ModelContextProtocol;
using Orchflow.Models;

namespace Orchflow.Tools;

/// <summary>How a tool call ended, in the words telemetry uses (<c>orchflow.tool.outcome</c>).</summary>
public enum ToolCallOutcome
{
    Ok,

    /// <summary>The tool or its server failed, or answered something unusable.</summary>
    Failed,

    /// <summary>No answer within the call's time.</summary>
    Timeout,

    /// <summary>Orchflow did not make the call: an address it does not reach, a tool it does not know, arguments that are not an object.</summary>
    Refused,
}

/// <summary>What went wrong with a tool server, in a sentence a model and a person both understand.</summary>
public static class ToolFailures
{
    /// <summary>The exception and every inner one, outermost first.</summary>
    public static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            yield return x;
            if (x is AggregateException { InnerExceptions.Count: > 0 } many)
            {
                x = many.InnerExceptions[0];
                yield return x;
            }
        }
    }

    /// <summary>
    /// Why talking to a tool server failed; <paramref name="server"/> names it ("The tool server at https://…"). Null
    /// when the caller cancelled, which the caller lets through. Call it only around the conversation with the server,
    /// so that Orchflow's own faults (its storage, its secrets) are never taken for the server's.
    /// </summary>
    public static (ToolCallOutcome Outcome, string Message)? Describe(Exception e, string server, TimeSpan timeout, CancellationToken callerToken)
    {
        if (callerToken.IsCancellationRequested)
        {
            return null;
        }

        var chain = Chain(e).ToList();
        if (chain.OfType<BlockedEndpointException>().FirstOrDefault() is { } blocked)
        {
            return (ToolCallOutcome.Refused, $"{server} was not called: {blocked.Message}");
        }

        if (chain.OfType<ToolServerAnswerException>().FirstOrDefault() is { } answer)
        {
            return (ToolCallOutcome.Failed, $"{server} is not usable: {answer.Message}.");
        }

        if (chain.Any(x => x is OperationCanceledException or TimeoutException))
        {
            return (ToolCallOutcome.Timeout, $"{server} did not answer within {Seconds(timeout)}.");
        }

        if (chain.OfType<HttpRequestException>().FirstOrDefault() is { } http)
        {
            return (ToolCallOutcome.Failed, http.StatusCode switch
            {
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                    $"{server} refused Orchflow's request ({(int)http.StatusCode} {http.StatusCode}): check the headers it was registered with.",
                HttpStatusCode.NotFound => $"{server} answered 404 Not Found: no MCP endpoint is at that address.",
                HttpStatusCode.MethodNotAllowed => $"{server} answered 405 Method Not Allowed: it does not take MCP messages (Streamable HTTP POSTs).",
                { } status => $"{server} answered {(int)status} {status}.",
                // One sentence whatever the socket said (refused, reset, no such name, not HTTP, a failed TLS handshake):
                // told apart, they would map which hosts and ports the deployment reaches.
                null => $"{server} could not be reached.",
            });
        }

        if (chain.OfType<McpProtocolException>().FirstOrDefault() is { } protocol)
        {
            return (ToolCallOutcome.Failed, $"{server} answered with an error: {Cut(Remote(protocol.Message))} (code {(int)protocol.ErrorCode}).");
        }

        if (chain.OfType<JsonException>().Any())
        {
            return (ToolCallOutcome.Failed, $"{server} answered something that is not valid MCP JSON.");
        }

        if (chain.OfType<McpException>().FirstOrDefault() is { } mcp)
        {
            return (ToolCallOutcome.Failed, $"{server} did not answer as an MCP server: {Cut(mcp.Message)}");
        }

        // Whatever else the conversation with the server threw came of its answers (or of the SDK's reading of them):
        // the model is told, rather than the task failed.
        return (ToolCallOutcome.Failed, $"{server} could not be talked to: {Cut(e.Message)}");
    }

    public static string Seconds(TimeSpan timeout) =>
        timeout.TotalSeconds >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{timeout.TotalSeconds:0.#} s")
            : string.Create(CultureInfo.InvariantCulture, $"{timeout.TotalMilliseconds:0} ms");

    /// <summary>The SDK's prefix for an error the server sent says nothing to a model.</summary>
    static string Remote(string message) =>
        message.StartsWith("Request failed (remote): ", StringComparison.Ordinal) ? message["Request failed (remote): ".Length..] : message;

    /// <summary>Servers' texts reach a model and a person: one line, and not a page of it.</summary>
    public static string Cut(string text, int max = 500)
    {
        var line = string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length <= max ? line : line[..max] + "…";
    }
}
