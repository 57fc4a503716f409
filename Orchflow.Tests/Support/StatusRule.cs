using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchflow.Tests.Support;

/// <summary>
/// The contract's rule for a run's status, checked on every read of a run the tests make. A run that has not ended is
/// <c>waiting_human</c> exactly when no agent task is running and at least one task, its plan or its spent budget waits
/// for a person; and <c>waiting_on</c> is "plan" first while the plan waits, "budget" while the budget is spent, then
/// the tasks in <c>waiting_human</c> in plan order.
/// </summary>
public static class StatusRule
{
    static readonly string[] Ended = ["completed", "failed", "cancelled"];

    /// <summary>What the run, as read, breaks of the rule; empty when it keeps it.</summary>
    public static IReadOnlyList<string> Violations(JsonNode run)
    {
        var status = run["status"]?.GetValue<string>() ?? "";
        var tasks = (run["subtasks"] as JsonObject ?? []).Select(t => t.Value!).ToList();
        var waitingOn = (run["waiting_on"] as JsonArray ?? []).Select(w => w!.GetValue<string>()).ToList();
        var waiting = tasks.Where(t => State(t) == "waiting_human").Select(t => t["task_id"]!.GetValue<string>()).ToList();
        var running = tasks.Where(t => State(t) == "running" && t["kind"]?.GetValue<string>() == "agent")
            .Select(t => t["task_id"]!.GetValue<string>()).ToList();
        var planWaits = waitingOn.Contains("plan");
        var budgetWaits = waitingOn.Contains("budget");

        var violations = new List<string>();
        var expected = (planWaits ? ["plan"] : Enumerable.Empty<string>()).Concat(budgetWaits ? ["budget"] : []).Concat(waiting).ToList();
        if (!waitingOn.SequenceEqual(expected))
        {
            violations.Add($"waiting_on is [{string.Join(", ", waitingOn)}], but the tasks waiting for a person make it [{string.Join(", ", expected)}]");
        }

        var restsOnPeople = running.Count == 0 && (planWaits || budgetWaits || waiting.Count > 0);
        if (!Ended.Contains(status) && (status == "waiting_human") != restsOnPeople)
        {
            violations.Add($"status is {status} with {Describe("running", running)} and {Describe("waiting for a person", waiting)}" +
                           (planWaits ? " and the plan waiting for review" : "") + (budgetWaits ? " and the budget waiting to be raised" : "") + $": it must {(restsOnPeople ? "" : "not ")}be waiting_human");
        }

        return violations;
    }

    /// <summary>Fails the test with the run's JSON when the run breaks the rule.</summary>
    public static void Check(JsonNode run)
    {
        var violations = Violations(run);
        if (violations.Count > 0)
        {
            Assert.Fail($"Run {run["run_id"]} breaks the status rule: {string.Join("; ", violations)}.\n" +
                        run.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
    }

    static string? State(JsonNode task) => task["state"]?.GetValue<string>();

    static string Describe(string what, List<string> tasks) => tasks.Count == 0 ? $"no task {what}" : $"{string.Join(", ", tasks)} {what}";
}
