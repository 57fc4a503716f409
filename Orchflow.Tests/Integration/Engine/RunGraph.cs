using System.Globalization;
using System.Text.Json.Nodes;
using Orchflow.Tests.Integration.Api;

namespace Orchflow.Tests.Integration.Engine;

/// <summary>Reads a run's task graph and timeline from a <c>GET /runs/{id}</c> body, for the engine tests.</summary>
static class RunGraph
{
    public static IReadOnlyList<JsonNode> Tasks(JsonNode run) =>
        run["subtasks"]!.AsObject().Select(t => t.Value!).ToList();

    public static JsonNode Task(JsonNode run, string taskId) =>
        run["subtasks"]![taskId] ?? throw new AssertionException($"Run has no task {taskId}: {run.ToJsonString()}");

    public static string Id(JsonNode task) => task.Str("task_id");

    public static string State(JsonNode task) => task.Str("state");

    public static IReadOnlyList<JsonNode> OfKind(JsonNode run, string kind) =>
        Tasks(run).Where(t => t.Str("kind") == kind).ToList();

    /// <summary>Agent tasks given to the named agent.</summary>
    public static IReadOnlyList<JsonNode> ForAgent(JsonNode run, string agent) =>
        Tasks(run).Where(t => t.Str("kind") == "agent" && t["agent"]?.GetValue<string>() == agent).ToList();

    public static IReadOnlyList<string> DependsOn(JsonNode task) =>
        task["depends_on"]!.AsArray().Select(d => d!.GetValue<string>()).ToList();

    /// <summary>Every task the given one waits for, directly or through others.</summary>
    public static ISet<string> Ancestors(JsonNode run, string taskId)
    {
        var seen = new HashSet<string>();
        var queue = new Queue<string>(DependsOn(Task(run, taskId)));
        while (queue.TryDequeue(out var id))
        {
            if (seen.Add(id))
            {
                foreach (var parent in DependsOn(Task(run, id)))
                {
                    queue.Enqueue(parent);
                }
            }
        }

        return seen;
    }

    /// <summary>Tasks that wait for the given one, directly or through others.</summary>
    public static IReadOnlyList<JsonNode> Descendants(JsonNode run, string taskId) =>
        Tasks(run).Where(t => Ancestors(run, Id(t)).Contains(taskId)).ToList();

    /// <summary>The input and output tokens a task or a run used, as its <c>usage</c> says.</summary>
    public static (long In, long Out) Usage(JsonNode node) =>
        (node["usage"]!["input_tokens"]!.GetValue<long>(), node["usage"]!["output_tokens"]!.GetValue<long>());

    public static IReadOnlyList<string> WaitingOn(JsonNode run) =>
        run["waiting_on"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();

    /// <summary>A server timestamp of a task or run (<c>started_at</c>, <c>updated_at</c>, …); fails when it is not set.</summary>
    public static DateTimeOffset Time(JsonNode node, string field) =>
        DateTimeOffset.Parse(node.Str(field), CultureInfo.InvariantCulture);

    /// <summary>One line per task, for assertion messages that must show the whole graph without the outputs.</summary>
    public static string Describe(JsonNode run) =>
        $"run {run["run_id"]} {run["status"]} error={run["error"]}\n" + string.Join('\n', Tasks(run).Select(t =>
            $"{Id(t)} {t["kind"]}/{t["agent"]} {State(t)} after [{string.Join(",", DependsOn(t))}] " +
            $"{t["started_at"]}..{t["completed_at"]} \"{t["name"]}\""));
}
