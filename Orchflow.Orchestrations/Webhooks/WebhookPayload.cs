using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orchflow.Domain;

namespace Orchflow.Webhooks;

/// <summary>
/// The body of a delivery: the event's type and time, and the run as it stood at that event (status, waiting
/// tasks) around the event itself, exactly as <c>GET /runs/{id}/events</c> lists it. The same on every attempt.
/// </summary>
public static class WebhookPayload
{
    /// <summary>Written as the API writes JSON: non-ASCII text as it is, not escaped.</summary>
    static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The body for <paramref name="entry"/>, given the run's log up to it at least.</summary>
    public static string Build(string runId, IReadOnlyList<RunLogEntry> log, RunLogEntry entry)
    {
        var standing = RunLog.StandingAt(log, entry.Sequence);
        var body = new JsonObject
        {
            ["type"] = entry.Type,
            ["timestamp"] = JsonValue.Create(entry.CreatedAt),
            ["data"] = new JsonObject
            {
                ["run_id"] = runId,
                ["status"] = WireNames.Of(standing.Status),
                ["sequence"] = entry.Sequence,
                ["task_id"] = entry.TaskId,
                ["waiting_on"] = new JsonArray(standing.WaitingOn.Select(t => (JsonNode?)t).ToArray()),
                ["event"] = new JsonObject
                {
                    ["sequence"] = entry.Sequence,
                    ["type"] = entry.Type,
                    ["created_at"] = JsonValue.Create(entry.CreatedAt),
                    ["task_id"] = entry.TaskId,
                    ["data"] = entry.Data.DeepClone(),
                },
            },
        };
        return body.ToJsonString(Json);
    }
}
