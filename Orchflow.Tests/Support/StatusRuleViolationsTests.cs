using System.Text.Json.Nodes;

namespace Orchflow.Tests.Support;

/// <summary>The status rule every read of a run is checked against: it must see each way a run can break it, and pass the runs that keep it.</summary>
[TestFixture]
public sealed class StatusRuleViolationsTests
{
    static JsonNode Run(string status, string[] waitingOn, params (string Id, string Kind, string State)[] tasks) => new JsonObject
    {
        ["run_id"] = "run_test",
        ["status"] = status,
        ["waiting_on"] = new JsonArray(waitingOn.Select(w => (JsonNode?)w).ToArray()),
        ["subtasks"] = new JsonObject(tasks.Select(t => KeyValuePair.Create<string, JsonNode?>(t.Id, new JsonObject
        {
            ["task_id"] = t.Id,
            ["kind"] = t.Kind,
            ["state"] = t.State,
        }))),
    };

    static IEnumerable<TestCaseData> Kept()
    {
        yield return new TestCaseData(Run("queued", [])).SetName("Violations_QueuedWithoutTasks_None");
        yield return new TestCaseData(Run("running", [], ("T1", "agent", "running"), ("T2", "agent", "pending"))).SetName("Violations_RunningAgent_None");
        yield return new TestCaseData(Run("running", ["T1"], ("T1", "human", "waiting_human"), ("T2", "agent", "running")))
            .SetName("Violations_PersonWaitsWhileAnAgentRuns_None");
        yield return new TestCaseData(Run("waiting_human", ["T1", "T3"], ("T1", "agent", "waiting_human"), ("T2", "agent", "completed"), ("T3", "human", "waiting_human")))
            .SetName("Violations_DraftsWaitNothingRuns_None");
        yield return new TestCaseData(Run("waiting_human", ["plan"])).SetName("Violations_PlanWaitsForReview_None");
        yield return new TestCaseData(Run("failed", [], ("T1", "agent", "failed"), ("T2", "agent", "running"))).SetName("Violations_EndedRunWithATaskStillShownRunning_None");
    }

    static IEnumerable<TestCaseData> Broken()
    {
        yield return new TestCaseData(Run("running", ["T1", "T2"], ("T1", "agent", "waiting_human"), ("T2", "agent", "waiting_human")), "must be waiting_human")
            .SetName("Violations_RunningWhileEveryDraftWaitsAndNothingRuns_StatusNamed");
        yield return new TestCaseData(Run("waiting_human", ["T2"], ("T1", "agent", "running"), ("T2", "agent", "waiting_human")), "must not be waiting_human")
            .SetName("Violations_WaitingHumanWhileARedoRuns_StatusNamed");
        yield return new TestCaseData(Run("waiting_human", [], ("T1", "agent", "running"), ("T2", "agent", "running")), "must not be waiting_human")
            .SetName("Violations_WaitingHumanOnNothing_StatusNamed");
        yield return new TestCaseData(Run("running", ["plan"]), "must be waiting_human").SetName("Violations_RunningWhileThePlanWaits_StatusNamed");
        yield return new TestCaseData(Run("waiting_human", ["T1"], ("T1", "human", "waiting_human"), ("T2", "agent", "waiting_human")), "waiting_on is [T1]")
            .SetName("Violations_WaitingOnMissesAWaitingTask_WaitingOnNamed");
        yield return new TestCaseData(Run("waiting_human", ["T2", "plan"], ("T2", "human", "waiting_human")), "waiting_on is [T2, plan]")
            .SetName("Violations_PlanNotFirst_WaitingOnNamed");
    }

    [TestCaseSource(nameof(Kept))]
    public void Violations_RunKeepingTheRule_None(JsonNode run) => Assert.That(StatusRule.Violations(run), Is.Empty);

    [TestCaseSource(nameof(Broken))]
    public void Violations_RunBreakingTheRule_SaysWhat(JsonNode run, string said) =>
        Assert.That(StatusRule.Violations(run), Has.Some.Contains(said));
}
